using System.Diagnostics;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Shout.Toxics;

/// <summary>
/// One direction of a datagram flow (client → server is upstream, server → client downstream),
/// and the toxics that act on it. With none, a datagram is sent on at once by the receive loop
/// that read it. Otherwise, in the proxy's order: loss drops it, duplicate sends it twice, reorder
/// holds it back <c>delay</c> ms while later ones pass, latency delays it (latency ± jitter, from
/// when it was read). Loss, duplicate and reorder throw the dice per datagram (their toxicity is
/// the share of datagrams); latency per flow, as on a connection. Bandwidth spaces the datagrams so
/// that at most <c>rate</c> KB a second leave (no credit for idle time, as on a stream); timeout
/// drops every datagram ("cable unplugged") and, after its <c>timeout</c> ms, ends the flow. Both
/// are decided per flow. Held datagrams are bounded: past <see cref="MaxHeld"/> a lane drops, as a
/// full router queue does.
/// </summary>
internal sealed class DatagramLane
{
    /// <summary>The most datagrams one direction of one flow holds for a latency or reorder toxic.</summary>
    public const int MaxHeld = 1024;

    private readonly ToxicChain _toxics;
    private readonly ToxicStream _stream;
    private readonly ToxicRandom _random;
    private readonly ToxicDecisions _decisions;
    private readonly Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask<int>> _send;
    private readonly CancellationToken _ended;
    private readonly Action _unplugged;

    /// <summary>When the bandwidth toxic lets the next byte leave (a Stopwatch timestamp).</summary>
    private long _nextFree;

    /// <summary>The timeout toxics whose end of the flow is already on its way.</summary>
    private readonly HashSet<ToxicSpec> _unplugging = new(ReferenceEqualityComparer.Instance);
    private readonly Channel<Held> _delayed = Channel.CreateBounded<Held>(
        new BoundedChannelOptions(MaxHeld) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Datagrams in the latency queue; while any, new ones queue behind them so they keep their order.</summary>
    private int _queued;

    /// <summary>Datagrams a reorder toxic holds aside.</summary>
    private int _aside;
    private ToxicSpec[]? _seen;
    private bool _seenActs;

    public DatagramLane(ToxicChain toxics, ToxicStream stream, ToxicRandom random, ToxicDecisions decisions,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask<int>> send, Action unplugged, CancellationToken ended)
    {
        _unplugged = unplugged;
        _toxics = toxics;
        _stream = stream;
        _random = random;
        _decisions = decisions;
        _send = send;
        _ended = ended;
        _ = SendDelayedAsync();
    }

    /// <summary>Forwards one datagram (the caller reuses <paramref name="datagram"/>'s memory afterwards).</summary>
    public async ValueTask ForwardAsync(ReadOnlyMemory<byte> datagram)
    {
        if (Volatile.Read(ref _queued) == 0 && !ToxicsAct())
        {
            await SendAsync(datagram, 1).ConfigureAwait(false);
            return;
        }

        var readAt = Stopwatch.GetTimestamp();
        var copies = 1;
        long delayMs = 0;
        long? asideMs = null;
        ToxicSpec? bandwidth = null;
        foreach (var toxic in _toxics.Current)
        {
            if (toxic.Stream != _stream)
            {
                continue;
            }

            switch (toxic.Type)
            {
                case "loss" when _random.Hit(toxic.Toxicity):
                    return;
                case "duplicate" when _random.Hit(toxic.Toxicity):
                    copies++;
                    break;
                case "reorder" when _random.Hit(toxic.Toxicity):
                    asideMs = toxic["delay"];
                    break;
                case "latency" when _decisions.Applies(toxic, out _):
                    delayMs += toxic["latency"] + _random.Spread(toxic["jitter"]);
                    break;
                case "bandwidth" when toxic["rate"] > 0 && _decisions.Applies(toxic, out _):
                    bandwidth = toxic;
                    break;
                case "timeout" when _decisions.Applies(toxic, out var since):
                    Unplug(toxic, since);
                    return;
                default:
                    break;
            }
        }

        var due = readAt + (Math.Max(0, delayMs) * Stopwatch.Frequency / 1000);
        if (bandwidth is not null)
        {
            // The datagram leaves when the link is free (never earlier than other toxics say), and
            // holds it for its size at the rate. An idle link earns no credit: free means now at best.
            due = Math.Max(due, Math.Max(_nextFree, Stopwatch.GetTimestamp()));
            _nextFree = due + (datagram.Length * Stopwatch.Frequency / (bandwidth["rate"] * 1000));
        }
        if (asideMs is { } aside)
        {
            if (Interlocked.Increment(ref _aside) > MaxHeld)
            {
                Interlocked.Decrement(ref _aside);
                return;
            }

            _ = SendAsideAsync(datagram.ToArray(), copies, due + (aside * Stopwatch.Frequency / 1000));
            return;
        }

        if (due <= Stopwatch.GetTimestamp() && Volatile.Read(ref _queued) == 0)
        {
            await SendAsync(datagram, copies).ConfigureAwait(false);
            return;
        }

        Interlocked.Increment(ref _queued);
        if (!_delayed.Writer.TryWrite(new Held(datagram.ToArray(), copies, due)))
        {
            Interlocked.Decrement(ref _queued);
        }
    }

    /// <summary>
    /// "Cable unplugged": the datagram is dropped, and once per toxic a watch ends the whole flow
    /// <c>timeout</c> ms after the flow first met it (0: never; the flow waits for the toxic to go),
    /// unless the toxic is gone by then. The source's next datagram makes a new flow.
    /// </summary>
    private void Unplug(ToxicSpec toxic, long since)
    {
        if (toxic["timeout"] <= 0)
        {
            return;
        }

        lock (_unplugging)
        {
            if (!_unplugging.Add(toxic))
            {
                return;
            }
        }

        _ = EndFlowAfterAsync(toxic, since + (toxic["timeout"] * Stopwatch.Frequency / 1000));
    }

    private async Task EndFlowAfterAsync(ToxicSpec toxic, long due)
    {
        try
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _ended).ConfigureAwait(false);
            }

            if (Array.IndexOf(_toxics.Current, toxic) >= 0)
            {
                _unplugged();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Whether any toxic acts on this lane; worked out again only when the toxic list changed.</summary>
    private bool ToxicsAct()
    {
        var now = _toxics.Current;
        if (!ReferenceEquals(now, _seen))
        {
            var acts = false;
            foreach (var toxic in now)
            {
                acts |= toxic.Stream == _stream && (ToxicTypes.PerDatagram(toxic.Type) ? toxic.Toxicity > 0 : _decisions.Applies(toxic, out _));
            }

            (_seen, _seenActs) = (now, acts);
        }

        return _seenActs;
    }

    /// <summary>The latency queue: each datagram at its time, in the order they came.</summary>
    private async Task SendDelayedAsync()
    {
        try
        {
            await foreach (var held in _delayed.Reader.ReadAllAsync(_ended).ConfigureAwait(false))
            {
                try
                {
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), held.Due);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, _ended).ConfigureAwait(false);
                    }

                    await SendAsync(held.Datagram, held.Copies).ConfigureAwait(false);
                }
                finally
                {
                    Interlocked.Decrement(ref _queued);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task SendAsideAsync(byte[] datagram, int copies, long due)
    {
        try
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _ended).ConfigureAwait(false);
            }

            await SendAsync(datagram, copies).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Interlocked.Decrement(ref _aside);
        }
    }

    /// <summary>Sends; a datagram that cannot be sent (the peer's port closed, a full buffer) is lost, as on a network.</summary>
    private async ValueTask SendAsync(ReadOnlyMemory<byte> datagram, int copies)
    {
        for (var i = 0; i < copies; i++)
        {
            try
            {
                await _send(datagram, _ended).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
        }
    }

    private readonly record struct Held(byte[] Datagram, int Copies, long Due);
}
