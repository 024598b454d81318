namespace Shout.IntegrationTests.Infrastructure;

/// <summary>Arguments for <c>shout</c> processes started by tests.</summary>
internal static class ShoutArgs
{
    /// <summary>
    /// <c>shout serve</c> opens its web page on the fixed port 8081 by default; tests run in
    /// parallel, so a serve process gets <c>--web none</c> unless the test chose a web address itself.
    /// </summary>
    public static string[] ForTests(string[] args) =>
        args.Length > 0 && args[0] == "serve" && !args.Contains("--web") && !args.Contains("--help")
            ? [.. args, "--web", "none"]
            : args;
}
