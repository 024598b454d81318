using System.Diagnostics;
using Shout.Configuration;

namespace Shout.Tests.Configuration;

/// <summary>
/// Files named by options: only regular files, capped, never a blocking open (row 31). Each case
/// runs under a deadline, so a read that blocks (a FIFO with no writer) fails the test instead of hanging it.
/// </summary>
public sealed class OptionFileTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("shout-optionfile-").FullName;

    [Fact]
    public async Task Reads_a_regular_file()
    {
        var path = Path.Combine(_dir, "rules");
        await File.WriteAllTextAsync(path, "\uFEFFallow 10.0.0.0/8\n");
        Assert.Equal("allow 10.0.0.0/8\n", await Run(() => OptionFile.ReadAllText("--access-file", path, 1024)));
    }

    [Fact]
    public async Task Reads_a_file_of_exactly_the_cap()
    {
        var path = Path.Combine(_dir, "exact");
        await File.WriteAllBytesAsync(path, new byte[1024]);
        Assert.Equal(1024, (await Run(() => OptionFile.ReadAllBytes("--config", path, 1024))).Length);
    }

    [Fact]
    public async Task Refuses_a_character_device() =>
        await AssertRefused("/dev/zero", "--access-file /dev/zero: a character device, not a regular file");

    [Fact]
    public async Task Refuses_a_FIFO_without_blocking()
    {
        var fifo = Path.Combine(_dir, "fifo");
        MakeFifo(fifo);
        await AssertRefused(fifo, "a FIFO (named pipe), not a regular file");
    }

    [Fact]
    public async Task Refuses_a_directory() => await AssertRefused(_dir, "a directory, not a regular file");

    [Fact]
    public async Task Refuses_a_file_over_the_cap()
    {
        var path = Path.Combine(_dir, "big");
        await File.WriteAllBytesAsync(path, new byte[2 * 1024 * 1024]);
        await AssertRefused(path, "larger than 1 MiB");
    }

    [Fact]
    public async Task Says_a_missing_file_does_not_exist() =>
        await AssertRefused(Path.Combine(_dir, "nothing"), "does not exist");

    [Fact]
    public async Task Refuses_a_symlink_to_a_device()
    {
        var link = Path.Combine(_dir, "link");
        File.CreateSymbolicLink(link, "/dev/zero");
        await AssertRefused(link, "a character device");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path]) ?? throw new InvalidOperationException("mkfifo did not start");
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    private static async Task AssertRefused(string path, string expected)
    {
        var error = await Assert.ThrowsAsync<OptionFileException>(() => Run(() => OptionFile.ReadAllBytes("--access-file", path, SizeLimits.TextFile)));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    private static Task<T> Run<T>(Func<T> read) => Task.Run(read).WaitAsync(Deadline);
}
