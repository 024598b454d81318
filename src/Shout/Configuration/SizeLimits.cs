namespace Shout.Configuration;

/// <summary>
/// The largest sizes and counts a setting may name. Each is far above any measured use and far below
/// what breaks: past them a value is a typo (or a probe), and accepting it would only fail later, on
/// every connection (a 2 GiB transport block cannot be allocated; 2^31 I/O queues exhaust memory).
/// </summary>
internal static class SizeLimits
{
    /// <summary>Most bytes in one line (<c>--max-line</c>): 16 MiB, held whole per connection while it arrives.</summary>
    public const int MaxLineLength = 16 * 1024 * 1024;

    /// <summary>Largest transport block (<c>--block-size</c>): 1 MiB, 16× the measured best (docs/benchmarks.md).</summary>
    public const int BlockSize = 1024 * 1024;

    /// <summary>Most Kestrel I/O queues (<c>--io-queues</c>); Kestrel's own default is one per core, at most 16.</summary>
    public const int IoQueues = 256;

    /// <summary>Largest message <c>shout bench</c> sends (<c>--size</c>): 16 MiB, like a line.</summary>
    public const int BenchMessage = 16 * 1024 * 1024;

    /// <summary>Most connections <c>shout bench</c> opens (<c>--connections</c>, room <c>--members</c>).</summary>
    public const int BenchConnections = 1_000_000;

    /// <summary>Most messages in flight per bench connection (<c>--pipeline</c>).</summary>
    public const int BenchPipeline = 65_536;

    /// <summary>Largest configuration or access-list file read: 1 MiB (a thousand times a long one).</summary>
    public const int TextFile = 1024 * 1024;

    /// <summary>Largest certificate or key file read: 1 MiB (a long chain in PEM is a few tens of KiB).</summary>
    public const int CertificateFile = 1024 * 1024;
}
