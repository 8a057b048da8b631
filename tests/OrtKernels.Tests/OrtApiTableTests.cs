using System.Reflection;
using System.Text.RegularExpressions;

namespace Alerts.OrtKernels.Tests;

public class OrtApiTableTests
{
    /// <summary>The C header of the restored Microsoft.ML.OnnxRuntime package (NuGet keeps it under build/native/include).</summary>
    private static string Header()
    {
        string version = typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!
            .InformationalVersion.Split('+')[0];
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                      ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(root, "microsoft.ml.onnxruntime", version, "build", "native", "include", "onnxruntime_c_api.h");
        Assert.True(File.Exists(path), $"{path} not found: the test reads the C API header that the Microsoft.ML.OnnxRuntime {version} package restores");
        return File.ReadAllText(path);
    }

    /// <summary>Member names of <c>struct OrtApi</c> in declaration order (= their index in the function table).</summary>
    private static List<string> OrtApiMembers(string header)
    {
        int start = header.IndexOf("struct OrtApi {", StringComparison.Ordinal);
        int end = header.IndexOf("\n};", start, StringComparison.Ordinal);
        string body = header[(start + "struct OrtApi {".Length)..end];
        body = Regex.Replace(body, @"/\*.*?\*/", "", RegexOptions.Singleline);
        body = Regex.Replace(body, @"//[^\n]*", "");
        body = string.Join('\n', body.Split('\n').Where(l => !l.TrimStart().StartsWith('#')));
        var members = new List<string>();
        int depth = 0, from = 0;
        for (int i = 0; i < body.Length; i++)
        {
            if (body[i] == '(') depth++;
            else if (body[i] == ')') depth--;
            else if (body[i] == ';' && depth == 0)
            {
                string item = body[from..i].Trim();
                from = i + 1;
                if (item.Length == 0) continue;
                Match m;
                if ((m = Regex.Match(item, @"^ORT_API2_STATUS\(\s*(\w+)")).Success) members.Add(m.Groups[1].Value);
                else if ((m = Regex.Match(item, @"^ORT_CLASS_RELEASE2?\(\s*(\w+)")).Success) members.Add("Release" + m.Groups[1].Value);
                else if ((m = Regex.Match(item, @"^ORT_API_T\(\s*[^,]+,\s*(\w+)")).Success) members.Add(m.Groups[1].Value);
                else if ((m = Regex.Match(item, @"ORT_API_CALL\s*\*\s*(\w+)\)")).Success) members.Add(m.Groups[1].Value);
                else members.Add("?" + item);
            }
        }
        return members;
    }

    [Theory]
    [InlineData("CreateStatus", OrtApiTable.CreateStatusIndex)]
    [InlineData("GetErrorMessage", OrtApiTable.GetErrorMessageIndex)]
    [InlineData("CreateCustomOpDomain", OrtApiTable.CreateCustomOpDomainIndex)]
    [InlineData("CustomOpDomain_Add", OrtApiTable.CustomOpDomainAddIndex)]
    [InlineData("AddCustomOpDomain", OrtApiTable.AddCustomOpDomainIndex)]
    [InlineData("GetTensorMutableData", OrtApiTable.GetTensorMutableDataIndex)]
    [InlineData("GetTensorElementType", OrtApiTable.GetTensorElementTypeIndex)]
    [InlineData("GetDimensionsCount", OrtApiTable.GetDimensionsCountIndex)]
    [InlineData("GetDimensions", OrtApiTable.GetDimensionsIndex)]
    [InlineData("GetTensorTypeAndShape", OrtApiTable.GetTensorTypeAndShapeIndex)]
    [InlineData("KernelInfoGetAttribute_float", OrtApiTable.KernelInfoGetAttributeFloatIndex)]
    [InlineData("KernelInfoGetAttribute_int64", OrtApiTable.KernelInfoGetAttributeInt64Index)]
    [InlineData("KernelContext_GetInput", OrtApiTable.KernelContextGetInputIndex)]
    [InlineData("KernelContext_GetOutput", OrtApiTable.KernelContextGetOutputIndex)]
    [InlineData("ReleaseStatus", OrtApiTable.ReleaseStatusIndex)]
    [InlineData("ReleaseTensorTypeAndShapeInfo", OrtApiTable.ReleaseTensorTypeAndShapeInfoIndex)]
    public void Function_table_index_matches_the_packaged_C_header(string member, int index)
    {
        var members = OrtApiMembers(Header());
        Assert.DoesNotContain(members, m => m.StartsWith('?'));   // every member parsed
        Assert.Equal(index, members.IndexOf(member));
    }

    [Fact]
    public void OrtCustomOp_layout_has_the_headers_member_count_through_the_V2_callbacks()
    {
        string header = Header();
        int start = header.IndexOf("struct OrtCustomOp {", StringComparison.Ordinal);
        string body = header[start..header.IndexOf("\n};", start, StringComparison.Ordinal)];
        body = Regex.Replace(body, @"//[^\n]*", "");
        var names = Regex.Matches(body, @"ORT_API_CALL\s*\*\s*(\w+)\)").Select(m => m.Groups[1].Value).ToList();
        var ours = typeof(AlertsOperators.OrtCustomOp).GetFields().Select(f => f.Name).Skip(1).ToList();   // after Version
        Assert.Equal(names, ours);
        Assert.Equal(8 + 8 * names.Count, System.Runtime.CompilerServices.Unsafe.SizeOf<AlertsOperators.OrtCustomOp>());   // uint32 padded to 8, then pointers
    }
}
