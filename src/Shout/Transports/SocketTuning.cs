using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace Shout.Transports;

/// <summary>
/// How the server drives its sockets (TCP and Unix). The defaults are the fastest settings measured
/// with <c>benchmarks/compare</c> on a 2-core machine; docs/benchmarks.md records each measurement and
/// the trade-off. Not thread-safe; set before the server starts.
/// </summary>
public sealed class SocketTuning
{
    /// <summary>The environment variable that makes .NET run socket completions on its epoll threads.</summary>
    public const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Run the connection handler on the socket's I/O thread instead of hopping to the thread pool
    /// (Kestrel's <c>UnsafePreferInlineScheduling</c> plus inline socket completions). Saves a thread
    /// hop and its wake-ups per message. Safe here because the handler never blocks: it uppercases
    /// what arrived and writes it back. Inline socket completions are process-wide and only take
    /// effect when set before the process opens its first socket (the CLI's <c>serve</c> does).
    /// </summary>
    public bool InlineScheduling { get; set; } = true;

    /// <summary>Kestrel's I/O queues; null keeps Kestrel's default (one per core, at most 16); 0 schedules to the thread pool.</summary>
    public int? IOQueueCount { get; set; }

    /// <summary>
    /// Allocate a receive buffer only when data has arrived. Default true: an idle connection then
    /// holds no buffer, which is what keeps memory per held connection low.
    /// </summary>
    public bool WaitForDataBeforeAllocatingBuffer { get; set; } = true;

    /// <summary>
    /// Size of the transport's buffer blocks in bytes; the most one receive system call can read.
    /// Default 64 KiB; 0 keeps Kestrel's own pool (4 KiB blocks). Larger blocks mean fewer system
    /// calls for streaming clients (measured: half the server CPU per byte at 64 KiB); each active
    /// connection holds up to one block per direction while it has data in flight, idle ones none,
    /// and the pool keeps the most blocks ever in use at once.
    /// </summary>
    public int BlockSize { get; set; } = 64 * 1024;

    /// <summary>
    /// Connections the kernel may queue before they are accepted. Default 4096 (Kestrel's is 512):
    /// a burst of connects past the queue is dropped and retried by clients a second later, which
    /// shows as one-second connect latencies. The kernel caps it at <c>net.core.somaxconn</c>.
    /// </summary>
    public int Backlog { get; set; } = 4096;

    /// <summary>Most unsent bytes buffered per connection before the handler waits for the client (backpressure). Default 64 KiB.</summary>
    public long MaxWriteBufferSize { get; set; } = 64 * 1024;

    /// <summary>
    /// Turns on inline socket completions for this process unless the environment already says
    /// otherwise. Must run before the first socket is created to have any effect.
    /// </summary>
    public void ApplyToProcess()
    {
        if (InlineScheduling && Environment.GetEnvironmentVariable(InlineCompletionsVariable) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletionsVariable, "1");
        }
    }

    internal void ApplyTo(SocketTransportOptions socket)
    {
        socket.UnsafePreferInlineScheduling = InlineScheduling;
        socket.WaitForDataBeforeAllocatingBuffer = WaitForDataBeforeAllocatingBuffer;
        socket.Backlog = Backlog;
        socket.MaxWriteBufferSize = MaxWriteBufferSize;
        if (IOQueueCount is { } queues)
        {
            socket.IOQueueCount = queues;
        }
    }
}
