using System.Runtime.CompilerServices;

// ClassifierInputs.AlertHistories is checked against decoded simulated alerts (no train/serve skew).
[assembly: InternalsVisibleTo("Alerts.Pipeline.Tests")]
