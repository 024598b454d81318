using Shout.Client;
using Shout.Endpoints;

namespace Shout.Load;

/// <summary>What a load run does.</summary>
internal enum BenchMode
{
    /// <summary>Each connection keeps <see cref="BenchOptions.Pipeline"/> messages in flight and sends a new one per reply.</summary>
    PingPong,

    /// <summary>Each connection writes continuously while reading the answers.</summary>
    Stream,

    /// <summary>Open many connections (ramped), answer one message on each, hold them; report server memory.</summary>
    Hold,

    /// <summary>Room fan-out: members in rooms, some sending at a rate; every delivery checked (<see cref="Room.RoomBench"/>).</summary>
    Room,
}

/// <summary>What the server is expected to answer.</summary>
internal enum BenchExpect
{
    /// <summary>The uppercase of what was sent (a Shout server, the tutorial's server).</summary>
    Upper,

    /// <summary>Exactly what was sent (an echo server).</summary>
    Echo,
}

/// <summary>Settings of one load run. Immutable.</summary>
internal sealed record BenchOptions
{
    /// <summary>The server.</summary>
    public required ShoutEndpoint Endpoint { get; init; }

    /// <summary>The load pattern. Default <see cref="BenchMode.PingPong"/>.</summary>
    public BenchMode Mode { get; init; } = BenchMode.PingPong;

    /// <summary>What a correct reply is. Default <see cref="BenchExpect.Upper"/>.</summary>
    public BenchExpect Expect { get; init; } = BenchExpect.Upper;

    /// <summary>Concurrent connections (pingpong, stream) or connections to hold (hold). Default 1.</summary>
    public int Connections { get; init; } = 1;

    /// <summary>Pingpong: messages in flight per connection. Default 1.</summary>
    public int Pipeline { get; init; } = 1;

    /// <summary>Bytes per message (pingpong, hold) or per write (stream). Default 32.</summary>
    public int Size { get; init; } = 32;

    /// <summary>How long to measure (hold: how long to hold after the ramp). Default 10 s.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Load before measuring starts, not counted. Default 1 s (hold: none).</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Hold: connections opened per second while ramping. Default 2000.</summary>
    public int Rate { get; init; } = 2000;

    /// <summary>
    /// Pingpong: most messages per second each connection sends (tcpkali's <c>--message-rate</c>);
    /// null: as fast as replies come back. Default null.
    /// </summary>
    public int? MessageRate { get; init; }

    /// <summary>How to dial: connect timeout, TLS verification (pin or insecure), UDP reply timeout.</summary>
    public ShoutClientOptions Client { get; init; } = new();

    /// <summary>Give up a connect after this long (<see cref="ShoutClientOptions.ConnectTimeout"/>).</summary>
    public TimeSpan ConnectTimeout => Client.ConnectTimeout;

    /// <summary>
    /// The server's process id, for its CPU time and memory; when null it is looked up as the
    /// process listening on the endpoint's port or path (only possible for a local server).
    /// </summary>
    public int? ServerPid { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Connections < 1)
        {
            throw new ArgumentException("--connections must be at least 1");
        }

        if (Pipeline < 1)
        {
            throw new ArgumentException("--pipeline must be at least 1");
        }

        if (Size is < 1 or > 16 * 1024 * 1024)
        {
            throw new ArgumentException("--size must be between 1 and 16777216 bytes");
        }

        if (Duration <= TimeSpan.Zero || Warmup < TimeSpan.Zero)
        {
            throw new ArgumentException("--duration must be positive and --warmup not negative");
        }

        if (Rate < 1)
        {
            throw new ArgumentException("--connect-rate must be at least 1");
        }

        if (MessageRate is < 1)
        {
            throw new ArgumentException("--rate must be at least 1");
        }
    }
}
