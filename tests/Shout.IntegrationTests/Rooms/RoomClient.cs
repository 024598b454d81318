using System.Text;
using System.Threading.Channels;
using Shout.Client;
using Shout.Endpoints;

namespace Shout.IntegrationTests.Rooms;

/// <summary>A room member for tests: sends lines, reads lines with a deadline, over any stream transport.</summary>
internal sealed class RoomClient : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    private readonly ShoutConnection _connection;
    private readonly StreamReader _reader;
    private readonly List<string> _seen = [];
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly Task _pump;

    private RoomClient(ShoutConnection connection)
    {
        _connection = connection;
        _reader = new StreamReader(connection.Stream, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false, bufferSize: 4096, leaveOpen: true);

        // One reader of the connection, so a read that times out loses nothing.
        _pump = Task.Run(PumpAsync);
    }

    private async Task PumpAsync()
    {
        try
        {
            while (await _reader.ReadLineAsync() is { } line)
            {
                _lines.Writer.TryWrite(line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
        }
        finally
        {
            _lines.Writer.TryComplete();
        }
    }

    /// <summary>Every line read so far.</summary>
    public IReadOnlyList<string> Seen => _seen;

    public static async Task<RoomClient> ConnectAsync(ShoutEndpoint endpoint, ShoutClientOptions? options = null)
    {
        using var timeout = new CancellationTokenSource(DefaultTimeout);
        return new RoomClient(await ShoutConnection.ConnectAsync(endpoint, options ?? new ShoutClientOptions(), timeout.Token));
    }

    /// <summary>Connects and takes a nickname (waits for the server's OK).</summary>
    public static async Task<RoomClient> JoinAsync(ShoutEndpoint endpoint, string nick, ShoutClientOptions? options = null)
    {
        var client = await ConnectAsync(endpoint, options);
        await client.SendAsync("/nick " + nick);
        await client.ReadUntilAsync("OK nick " + nick);
        return client;
    }

    public async Task SendAsync(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        using var timeout = new CancellationTokenSource(DefaultTimeout);
        await _connection.Stream.WriteAsync(bytes, timeout.Token);
        await _connection.Stream.FlushAsync(timeout.Token);
    }

    /// <summary>The next line; fails at the deadline or if the server closes first.</summary>
    public async Task<string> ReadLineAsync(TimeSpan? timeout = null)
    {
        var line = await TryReadLineAsync(timeout ?? DefaultTimeout, closed: () => Assert.Fail($"the server closed the connection; seen so far:\n{string.Join('\n', _seen)}"));
        if (line is null)
        {
            Assert.Fail($"no line within {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s; seen so far:\n{string.Join('\n', _seen)}");
        }

        return line!;
    }

    /// <summary>The next line, or null when none arrives within <paramref name="timeout"/>.</summary>
    public async Task<string?> TryReadLineAsync(TimeSpan timeout, Action? closed = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            if (!await _lines.Reader.WaitToReadAsync(cts.Token))
            {
                closed?.Invoke();
                return null;
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }

        _lines.Reader.TryRead(out var line);
        _seen.Add(line!);
        return line;
    }

    /// <summary>Reads until <paramref name="expected"/> arrives; returns the lines before it.</summary>
    public async Task<IReadOnlyList<string>> ReadUntilAsync(string expected, TimeSpan? timeout = null)
    {
        var before = new List<string>();
        string line;
        while ((line = await ReadLineAsync(timeout)) != expected)
        {
            before.Add(line);
        }

        return before;
    }

    /// <summary>Reads until a line matches; returns it.</summary>
    public async Task<string> ReadUntilAsync(Func<string, bool> match, TimeSpan? timeout = null)
    {
        string line;
        while (!match(line = await ReadLineAsync(timeout)))
        {
        }

        return line;
    }

    /// <summary>Reads what is left until the server closes, lines joined by newlines; fails at the deadline.</summary>
    public async Task<string> ReadToEndAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        var rest = new List<string>();
        await foreach (var line in _lines.Reader.ReadAllAsync(cts.Token))
        {
            rest.Add(line);
        }

        return string.Join('\n', rest);
    }

    public ValueTask HalfCloseAsync() => _connection.HalfCloseAsync();

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _pump.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _reader.Dispose();
    }
}
