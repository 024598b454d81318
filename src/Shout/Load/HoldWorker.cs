using System.Diagnostics;

namespace Shout.Load;

/// <summary>
/// One held connection: connect, one message answered and checked (timed from the connect), then
/// idle until the run stops, then a reset (no TIME_WAIT left behind for the next run).
/// </summary>
internal sealed class HoldWorker(LoadRun run, ILoadDialer dialer, BenchPayload payload, WorkerCounters counters)
{
    public async Task RunAsync()
    {
        var started = Stopwatch.GetTimestamp();
        LoadChannel channel;
        try
        {
            channel = await dialer.ConnectAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or TimeoutException
            or System.Security.Authentication.AuthenticationException)
        {
            run.Error(e);
            return;
        }

        run.Opened(channel);
        try
        {
            await channel.SendAsync(payload.Take(1));
            var reply = new byte[payload.Size];
            var checker = default(ReplyChecker);
            var got = 0;
            while (got < reply.Length)
            {
                var received = await channel.ReceiveAsync(reply.AsMemory(got));
                if (received == 0)
                {
                    run.Error("closed_by_server");
                    return;
                }

                got += received;
            }

            var (_, wrong) = checker.Check(reply, payload.Expected, run);
            run.RecordLatency(Stopwatch.GetTimestamp() - started);
            Interlocked.Increment(ref counters.Messages);
            Interlocked.Add(ref counters.Bytes, got);
            Interlocked.Add(ref counters.Mismatches, wrong);
            await run.Stopped;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            run.Error(e);
        }
        finally
        {
            channel.Abort();
            run.Closed();
        }
    }
}
