using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// Clients that connect over and over (connect, send a line, half-close, read the reply to the end)
/// until stopped, counting what happened to every connection: answered right, reset, refused, or
/// lost (closed without the right reply, or no reply within the deadline). Each step has a deadline.
/// </summary>
internal sealed class ContinuousClients
{
    private readonly Func<string, Action, Task<string>> _exchange;
    private volatile bool _stopping;
    private readonly List<Task> _loops = [];
    private readonly Lock _gate = new();
    private readonly List<string> _failures = [];
    private int _answered;
    private int _resets;
    private int _refused;
    private int _lost;
    private int _slowConnects;

    private ContinuousClients(Func<string, Action, Task<string>> exchange) => _exchange = exchange;

    public int Answered => Volatile.Read(ref _answered);

    public int Resets => Volatile.Read(ref _resets);

    public int Refused => Volatile.Read(ref _refused);

    public int Lost => Volatile.Read(ref _lost);

    /// <summary>Connections whose handshake took over 900 ms: a SYN was dropped and sent again.</summary>
    public int SlowConnects => Volatile.Read(ref _slowConnects);

    public string Summary
    {
        get
        {
            lock (_gate)
            {
                return $"answered {Answered}, reset {Resets}, refused {Refused}, lost {Lost}, slow connects {SlowConnects}"
                    + (_failures.Count > 0 ? "; first failures: " + string.Join(" | ", _failures) : "");
            }
        }
    }

    public static ContinuousClients Start(IPEndPoint target, int concurrency) =>
        Start((message, slow) => ContinuousExchanges.StreamAsync(target, null, message, slow), concurrency);

    /// <summary>
    /// Clients whose every connection is one <paramref name="exchange"/>: it sends the message (a new
    /// connection, WebSocket or datagram socket each time) and returns the whole reply, calling its
    /// second argument when the connect took over 900 ms; it throws what the transport throws on a
    /// reset, a refusal or a deadline.
    /// </summary>
    public static ContinuousClients Start(Func<string, Action, Task<string>> exchange, int concurrency)
    {
        var clients = new ContinuousClients(exchange);
        for (var i = 0; i < concurrency; i++)
        {
            var id = i;
            clients._loops.Add(Task.Run(() => clients.LoopAsync(id)));
        }

        return clients;
    }

    /// <summary>Waits until at least <paramref name="count"/> connections have been answered.</summary>
    public Task WaitForAnsweredAsync(int count, TimeSpan timeout) =>
        Eventually.TrueAsync(() => Answered >= count, timeout, () => Summary);

    /// <summary>Stops starting connections and waits for those under way to finish (each within its deadline).</summary>
    public async Task StopAsync()
    {
        _stopping = true;
        await Task.WhenAll(_loops);
    }

    private async Task LoopAsync(int id)
    {
        for (var sequence = 0; !_stopping; sequence++)
        {
            var message = $"client {id} message {sequence}\n";
            try
            {
                var reply = await _exchange(message, () => Interlocked.Increment(ref _slowConnects));

                if (string.Equals(reply, message.ToUpperInvariant(), StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _answered);
                }
                else
                {
                    Fail(ref _lost, $"'{message.Trim()}' got '{reply.Trim()}'");
                }
            }
            catch (Exception e) when (ErrorOf(e) is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                Fail(ref _resets, $"'{message.Trim()}': {ErrorOf(e)}");
            }
            catch (Exception e) when (ErrorOf(e) is SocketError.ConnectionRefused)
            {
                Fail(ref _refused, $"'{message.Trim()}': refused");
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or IOException
                or System.Security.Authentication.AuthenticationException or System.Net.WebSockets.WebSocketException)
            {
                Fail(ref _lost, $"'{message.Trim()}': {Describe(e)}");
            }
        }
    }

    /// <summary>Every exception of the chain, outermost first: a WebSocket or TLS client's own message rarely says what happened under it.</summary>
    private static string Describe(Exception e)
    {
        var parts = new List<string>();
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            parts.Add($"{inner.GetType().Name} {inner.Message}");
        }

        return string.Join(" <- ", parts);
    }

    /// <summary>The socket error under <paramref name="e"/> (a TLS or WebSocket client wraps it), if any.</summary>
    private static SocketError? ErrorOf(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode;
            }
        }

        return null;
    }

    private void Fail(ref int counter, string description)
    {
        Interlocked.Increment(ref counter);
        lock (_gate)
        {
            if (_failures.Count < 10)
            {
                _failures.Add(description);
            }
        }
    }
}
