namespace Shout.IntegrationTests.Infrastructure;

/// <summary>Where things are: the repository root, the tutorial's sources, the built CLI.</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>The tutorial's Go programs: <c>../shared/seed/go</c> beside the repository, or $SHOUT_SEED_DIR.</summary>
    public static string SeedGo =>
        Environment.GetEnvironmentVariable("SHOUT_SEED_DIR") is { Length: > 0 } dir ? dir
        : Path.GetFullPath(Path.Combine(Root, "..", "shared", "seed", "go"));

    /// <summary>The CLI's entry assembly, copied next to the tests by the project reference.</summary>
    public static string CliDll => Path.Combine(AppContext.BaseDirectory, "shout.dll");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Shout.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cannot find the repository root (Shout.slnx) above " + AppContext.BaseDirectory);
    }

    /// <summary>A fresh temporary directory, short enough for Unix socket paths (108 bytes).</summary>
    public static string TempDir()
    {
        var path = Path.Combine(Path.GetTempPath(), "shout-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(path);
        return path;
    }
}
