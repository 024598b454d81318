using System.Diagnostics;

namespace Shout.Load;

/// <summary>
/// A closed loop on one connection: keep <c>pipeline</c> messages in flight; every reply completed
/// is timed, checked and replaced by a new message. Buffers are allocated once per connection.
/// </summary>
internal sealed class PingPongWorker(LoadRun run, LoadChannel channel, BenchPayload payload)
{
    private readonly WorkerCounters _counters = run.NewCounters();
    private readonly long[] _sentAt = new long[run.Options.Pipeline];
    private readonly byte[] _receive = new byte[Math.Clamp(payload.Size * run.Options.Pipeline, 4096, 256 * 1024)];
    private ReplyChecker _checker;
    private long _sent;
    private long _done;
    private long _first;

    public async Task RunAsync()
    {
        try
        {
            await SendAsync(run.Options.Pipeline, _first = Stopwatch.GetTimestamp());
            while (_done < _sent)
            {
                var received = await channel.ReceiveAsync(_receive);
                if (received == 0)
                {
                    run.Error("closed_by_server");
                    return;
                }

                var now = Stopwatch.GetTimestamp();
                var completed = Account(received, now);
                if (completed < 0)
                {
                    return;
                }

                if (completed > 0 && !run.Stopping)
                {
                    await SendAsync(completed, await PaceAsync(now));
                }
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            if (!run.Stopping || _done < _sent)
            {
                run.Error(e);
            }
        }
        finally
        {
            await channel.DisposeAsync();
            run.Closed();
        }
    }

    /// <summary>With a message rate, waits until the next message is due; returns the send time.</summary>
    private async ValueTask<long> PaceAsync(long now)
    {
        if (run.Options.MessageRate is not { } rate)
        {
            return now;
        }

        var due = _first + (long)(_sent * (double)Stopwatch.Frequency / rate);
        if (due <= now)
        {
            return now;
        }

        await Task.Delay(Stopwatch.GetElapsedTime(now, due));
        return Stopwatch.GetTimestamp();
    }

    private ValueTask SendAsync(int count, long now)
    {
        for (var i = 0; i < count; i++)
        {
            _sentAt[(_sent + i) % _sentAt.Length] = now;
        }

        _sent += count;
        return channel.SendAsync(payload.Take(count));
    }

    /// <summary>Checks what arrived and times each completed reply; -1 when the server sent more than asked.</summary>
    private int Account(int received, long now)
    {
        var (completed, wrong) = _checker.Check(_receive.AsSpan(0, received), payload.Expected, run);
        if (_done + completed > _sent)
        {
            run.Error("more_bytes_than_sent");
            return -1;
        }

        for (var i = 0; i < completed; i++)
        {
            run.RecordLatency(now - _sentAt[(_done + i) % _sentAt.Length]);
        }

        _done += completed;
        Volatile.Write(ref _counters.Messages, _counters.Messages + completed);
        Volatile.Write(ref _counters.Bytes, _counters.Bytes + received);
        if (wrong > 0)
        {
            Volatile.Write(ref _counters.Mismatches, _counters.Mismatches + wrong);
        }

        return completed;
    }
}
