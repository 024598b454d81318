using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Tutorial;

/// <summary>The tutorial's own Go clients (which dial 127.0.0.1:8080) against Shout.</summary>
[Collection(Port8080.Name)]
public sealed class GoClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static Task<TestServer> StartShoutOn8080() => TestServer.StartAsync(listen: $"tcp://127.0.0.1:{Port8080.Port}");

    [Fact]
    public async Task Client_once_prints_the_uppercase_reply()
    {
        var client = await GoPrograms.BuildAsync("client-once");
        await using var shout = await StartShoutOn8080();
        var result = await CliRunner.RunAsync(client, [], timeout: Timeout);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("\"HELLO WORLD\"", result.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_concurrent_gets_replies_and_quit_ends_it()
    {
        var client = await GoPrograms.BuildAsync("client-concurrent");
        await using var shout = await StartShoutOn8080();
        await using var process = ProcessHarness.Start(client, []);

        // One line at a time, each after its answer: the Go client trims the newline, so two lines
        // written at once could reach the server as one read ("helloquit").
        await process.Stdin.WriteLineAsync("hello");
        await process.Stdin.FlushAsync();
        await process.WaitForLineAsync("\"HELLO\"", Timeout);
        await process.Stdin.WriteLineAsync("quit");
        await process.Stdin.FlushAsync();
        await process.WaitForLineAsync("\"QUIT\"", Timeout);
        Assert.Equal(0, await process.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task Client_interactive_gets_each_line_back()
    {
        var client = await GoPrograms.BuildAsync("client-interactive");
        await using var shout = await StartShoutOn8080();
        await using var process = ProcessHarness.Start(client, []);
        await process.Stdin.WriteLineAsync("hello ȿ");
        await process.Stdin.FlushAsync();
        await process.WaitForLineAsync("\"HELLO \u2C7E\\n\"", Timeout);
        await process.Stdin.WriteLineAsync("quit");
        await process.Stdin.FlushAsync();
        Assert.Equal(0, await process.WaitForExitAsync(Timeout));
    }
}
