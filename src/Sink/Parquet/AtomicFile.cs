using System.Runtime.InteropServices;

namespace Alerts.Sink.Parquet;

/// <summary>
/// Temp-name, fsync, rename, fsync-directory: a file is either absent or complete under its final name.
/// Temporaries are dot-files ending in <see cref="TempSuffix"/>, which dataset readers ignore (Hive/Spark/DuckDB skip
/// names starting with '.' or '_', and the glob <c>*.parquet</c> does not match them).
/// </summary>
public static class AtomicFile
{
    public const string TempSuffix = ".inprogress";

    public static string TempPathFor(string finalPath) =>
        Path.Combine(Path.GetDirectoryName(finalPath)!, "." + Path.GetFileName(finalPath) + TempSuffix);

    /// <summary>fsyncs the stream's file, then renames it to <paramref name="finalPath"/> (never overwriting) and fsyncs the directory.</summary>
    public static void Commit(FileStream stream, string tempPath, string finalPath)
    {
        stream.Flush(flushToDisk: true);
        stream.Dispose();
        File.Move(tempPath, finalPath, overwrite: false);
        FsyncDirectory(Path.GetDirectoryName(finalPath)!);
    }

    public static void FsyncDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return; // Windows has no directory fsync; NTFS journals renames
        int fd = open(dir, 0 /* O_RDONLY */);
        if (fd < 0) return;
        try { fsync(fd); } finally { close(fd); }
    }

    /// <summary>Deletes temporaries under <paramref name="root"/> whose name starts with ".<paramref name="prefix"/>" (all when null).</summary>
    public static int CleanTemporaries(string root, string? prefix = null)
    {
        if (!Directory.Exists(root)) return 0;
        int n = 0;
        foreach (var f in Directory.EnumerateFiles(root, "*" + TempSuffix, SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(f);
            if (prefix is not null && !name.StartsWith("." + prefix, StringComparison.Ordinal)) continue;
            File.Delete(f);
            n++;
        }
        return n;
    }

    /// <summary>
    /// Deletes temporaries of any writer under <paramref name="root"/> not written to since <paramref name="olderThan"/>
    /// before <paramref name="now"/>: those of writers that will never restart under the same id (a Kubernetes
    /// Deployment's pods get new names). A live writer closes its files every flush, so its temporaries are never
    /// that old as long as <paramref name="olderThan"/> is far above the flush interval.
    /// </summary>
    public static int CleanStaleTemporaries(string root, TimeSpan olderThan, DateTimeOffset now)
    {
        if (!Directory.Exists(root)) return 0;
        int n = 0;
        foreach (var f in Directory.EnumerateFiles(root, "*" + TempSuffix, SearchOption.AllDirectories))
        {
            if (now.UtcDateTime - File.GetLastWriteTimeUtc(f) < olderThan) continue;
            try { File.Delete(f); n++; }
            catch (IOException) { } // raced with its writer or another cleaner: leave it
        }
        return n;
    }

    [DllImport("libc", SetLastError = true)] private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);
    [DllImport("libc", SetLastError = true)] private static extern int fsync(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
}
