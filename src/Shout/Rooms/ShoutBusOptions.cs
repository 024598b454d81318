using NATS.Client.Core;

namespace Shout.Rooms;

/// <summary>
/// How an instance reaches the room bus: the servers, the credentials the NATS server asks for, TLS,
/// and the bounds on what strangers on the bus can make it remember. Not thread-safe; set before
/// starting. Credentials are given to the NATS client only; nothing here is ever logged except
/// <see cref="BusAddress.Redacted"/>.
/// </summary>
public sealed class ShoutBusOptions
{
    /// <summary>Default <see cref="SenderLimit"/>.</summary>
    public const int DefaultSenderLimit = 10_000;

    /// <summary>Default <see cref="SenderIdle"/>.</summary>
    public static readonly TimeSpan DefaultSenderIdle = TimeSpan.FromMinutes(5);

    /// <summary>The NATS servers; null for the in-process bus (one instance).</summary>
    public BusAddress? Address { get; set; }

    /// <summary>A NATS <c>.creds</c> file (a user JWT and its nkey seed), as <c>nsc</c> writes it.</summary>
    public string? CredsFile { get; set; }

    /// <summary>A file holding an nkey seed (<c>SU…</c>), for servers that list users by nkey.</summary>
    public string? NKeyFile { get; set; }

    /// <summary>User name for user/password authentication (the password from <see cref="Password"/>).</summary>
    public string? User { get; set; }

    /// <summary>Password for <see cref="User"/>; the CLI reads it from <c>SHOUT_BUS_PASSWORD</c> only, never a flag.</summary>
    public string? Password { get; set; }

    /// <summary>Token authentication; the CLI reads it from <c>SHOUT_BUS_TOKEN</c> only.</summary>
    public string? Token { get; set; }

    /// <summary>PEM file of the CA that signed the servers' certificates; implies TLS.</summary>
    public string? CaFile { get; set; }

    /// <summary>Require TLS to every server, also for <c>nats://</c> URLs. <c>tls://</c> URLs always require it.</summary>
    public bool Tls { get; set; }

    /// <summary>
    /// Exactly once across instances, through bus outages, when the NATS server keeps the room stream
    /// (JetStream): each message is published with the stream's acknowledgement, and a receiver back
    /// from an outage reads what it missed from the stream. Off by default: one message at a time
    /// costs cross-instance latency under load (docs/rooms.md).
    /// </summary>
    public bool ExactlyOnce { get; set; }

    /// <summary>
    /// Positions the same on every instance, so a member resumes on any of them (needs
    /// <see cref="ExactlyOnce"/> and the room stream at start): every instance, this one's own
    /// members' lines included, delivers the rooms' lines in the stream's order, and a position names
    /// a place in that order. A member's own lines are answered when they come back from the stream,
    /// so while the bus is down a room's members here do not hear each other (docs/rooms.md).
    /// </summary>
    public bool SharedOffsets { get; set; }

    /// <summary>
    /// Most senders (instance and member) whose place in their sequence is remembered; past it the
    /// one heard from longest ago is forgotten. Default 10,000 (roughly 150 bytes each).
    /// </summary>
    public int SenderLimit { get; set; } = DefaultSenderLimit;

    /// <summary>A sender not heard from for this long is forgotten. Default 5 minutes.</summary>
    public TimeSpan SenderIdle { get; set; } = DefaultSenderIdle;

    /// <summary>Most copies JetStream keeps of the room stream and the presence bucket (NATS allows 5).</summary>
    public const int MaxReplicas = 5;

    /// <summary>
    /// How many servers of a NATS cluster keep the room stream and the presence bucket: 1 (the
    /// default) for one nats-server; 3 in a cluster of 3 or more, so the rooms' history, the catch-up
    /// after an outage and presence survive losing any one server.
    /// </summary>
    public int Replicas { get; set; } = 1;

    /// <summary>One-line reasons the settings cannot work together; empty when they can.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Address is null && (CredsFile ?? NKeyFile ?? User ?? Password ?? Token ?? CaFile) is not null)
        {
            problems.Add("bus credentials and TLS settings need --bus");
        }

        if (SharedOffsets && !ExactlyOnce)
        {
            problems.Add("--bus-shared-offsets needs --bus-exactly-once");
        }

        if (Replicas is < 1 or > MaxReplicas)
        {
            problems.Add($"--bus-replicas must be between 1 and {MaxReplicas}");
        }

        if (Password is not null && User is null)
        {
            problems.Add("SHOUT_BUS_PASSWORD needs --bus-user");
        }

        if (User is not null && Password is null)
        {
            problems.Add("--bus-user needs its password in SHOUT_BUS_PASSWORD");
        }

        var ways = new[] { CredsFile, NKeyFile, User, Token }.Count(w => w is not null);
        if (ways > 1)
        {
            problems.Add("use one way to authenticate to the bus: --bus-creds, --bus-nkey, --bus-user or SHOUT_BUS_TOKEN");
        }

        if (NKeyFile is not null)
        {
            try
            {
                _ = NKeySeedFile.Read(NKeyFile);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                problems.Add(e is Configuration.OptionFileException or InvalidDataException ? e.Message : $"--bus-nkey: {NKeyFile} is not a readable file");
            }
        }

        foreach (var (file, option) in new[] { (CredsFile, "--bus-creds"), (CaFile, "--bus-ca") })
        {
            if (file is not null)
            {
                try
                {
                    // The NATS client reads these itself: check first that each is a small regular file, so a
                    // device or a FIFO is one line at start, never a hang or an unbounded read.
                    _ = Configuration.OptionFile.ReadAllBytes(option, file, Configuration.SizeLimits.TextFile);
                }
                catch (IOException e)
                {
                    problems.Add(e is Configuration.OptionFileException ? e.Message : $"{option}: {file} is not a readable file");
                }
            }
        }

        if (SenderLimit < 1)
        {
            problems.Add("the bus sender limit must be at least 1");
        }

        return problems;
    }

    internal NatsAuthOpts AuthOpts()
    {
        var auth = NatsAuthOpts.Default with
        {
            CredsFile = CredsFile,
            Username = User,
            Password = Password,
            Token = Token,
        };
        if (NKeyFile is null)
        {
            return auth;
        }

        // Checked at start (Problems); read again here, as the server starts.
        var (seed, publicKey) = NKeySeedFile.Read(NKeyFile);
        return auth with { Seed = seed, NKey = publicKey };
    }

    internal NatsTlsOpts TlsOpts() => NatsTlsOpts.Default with
    {
        CaFile = CaFile,

        // Auto already requires TLS for tls:// and a CA file; Prefer would fall back to plain text.
        Mode = Tls || CaFile is not null ? TlsMode.Require : TlsMode.Auto,
    };
}
