namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// External programs the tests drive. They are installed by <c>scripts/test</c>; a missing one is a
/// failure that says how to get it, never a skip.
/// </summary>
internal static class Tools
{
    public static string Require(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        Assert.Fail($"'{name}' is not installed; run scripts/test (it installs every tool the tests need)");
        return name;
    }
}
