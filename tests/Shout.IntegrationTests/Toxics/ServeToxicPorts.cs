using System.Globalization;
using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Toxics;

/// <summary>The ports a <c>serve --toxic</c> process names in its line <c>shout: tcp://… through … (served on tcp://…)</c>.</summary>
internal static partial class ServeToxicPorts
{
    /// <summary>Waits for the line of the first tcp:// listener and returns its public port and the internal one behind the toxics.</summary>
    public static async Task<(int Public, int Internal)> ReadAsync(ProcessHarness serve, TimeSpan timeout)
    {
        var output = await serve.WaitForOutputAsync(o => ToxicLine().IsMatch(o), timeout);
        var line = ToxicLine().Match(output);
        return (int.Parse(line.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(line.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"shout: tcp://127\.0\.0\.1:(\d+) through \S+ \(served on tcp://127\.0\.0\.1:(\d+)\)")]
    private static partial Regex ToxicLine();
}
