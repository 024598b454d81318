namespace Shout.Load;

/// <summary>
/// One connection writing the payload continuously while a second loop reads and checks the
/// answers. At the stop it half-closes and reads until the server closes, so every byte sent must
/// come back: a short answer is an error, not a rounding.
/// </summary>
internal sealed class StreamWorker(LoadRun run, LoadChannel channel, BenchPayload payload)
{
    private readonly WorkerCounters _counters = run.NewCounters();
    private readonly byte[] _receive = new byte[Math.Max(64 * 1024, payload.Size)];
    private ReplyChecker _checker;
    private long _sentBytes;

    public async Task RunAsync()
    {
        try
        {
            var send = SendLoopAsync();
            await ReceiveLoopAsync();
            await send;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            run.Error(e);
        }
        finally
        {
            await channel.DisposeAsync();
            run.Closed();
        }
    }

    private async Task SendLoopAsync()
    {
        // Leave the caller's thread at once, so the receive loop starts while this one sends.
        await Task.Yield();
        var message = payload.Take(1);
        while (!run.Stopping)
        {
            await channel.SendAsync(message);
            Volatile.Write(ref _sentBytes, _sentBytes + message.Length);
        }

        await channel.HalfCloseAsync();
    }

    private async Task ReceiveLoopAsync()
    {
        long receivedBytes = 0;
        while (true)
        {
            var received = await channel.ReceiveAsync(_receive);
            if (received == 0)
            {
                break;
            }

            receivedBytes += received;
            Account(received);
        }

        if (receivedBytes != Volatile.Read(ref _sentBytes))
        {
            run.Error(receivedBytes < _sentBytes ? "answer_shorter_than_sent" : "more_bytes_than_sent");
        }
    }

    private void Account(int received)
    {
        var (completed, wrong) = _checker.Check(_receive.AsSpan(0, received), payload.Expected, run);
        Volatile.Write(ref _counters.Messages, _counters.Messages + completed);
        Volatile.Write(ref _counters.Bytes, _counters.Bytes + received);
        if (wrong > 0)
        {
            Volatile.Write(ref _counters.Mismatches, _counters.Mismatches + wrong);
        }
    }
}
