using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Shout.Sessions;
using Shout.Tests.Rooms;

namespace Shout.Tests.Sessions;

/// <summary>Admission, the session core's one gate: the access lists, the connection limit, the per-address limit and the slots they give back.</summary>
public sealed class SessionAdmissionTests : IDisposable
{
    private static readonly IPAddress Here = IPAddress.Loopback;
    private static readonly IPAddress There = IPAddress.Parse("127.0.0.2");

    private readonly TestMeters _meters = new();
    private readonly ConnectionEventLog _events = new(TimeProvider.System);

    public void Dispose() => _meters.Dispose();

    [Fact]
    public void Past_the_connection_limit_a_client_is_told_the_server_is_busy_until_a_slot_is_given_back()
    {
        var admission = Create(new SessionSettings { MaxConnections = 2 });

        var first = Admit(admission, Here, out _);
        var second = Admit(admission, There, out _);
        var refused = Admit(admission, Here, out var refusal);

        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Null(refused);
        Assert.Equal(CloseReason.Limit, refusal.Reason);
        Assert.Equal("ERR server busy (max 2 connections)\n", System.Text.Encoding.ASCII.GetString(refusal.StreamLine()));
        Assert.Equal(2, admission.Open);
        Assert.Contains(_events.Latest(), e => e.Reason == CloseReason.Limit);

        first!.Dispose();
        first.Dispose(); // a slot is given back once, however often its ticket is disposed

        Assert.Equal(1, admission.Open);
        Assert.NotNull(Admit(admission, Here, out _));
        Assert.Null(Admit(admission, Here, out _));
    }

    [Fact]
    public void The_per_address_limit_counts_an_address_however_it_is_written()
    {
        var admission = Create(new SessionSettings { MaxConnectionsPerAddress = 1 });

        var first = Admit(admission, Here, out _);
        var mapped = Admit(admission, Here.MapToIPv6(), out var refusal);
        var other = Admit(admission, There, out _);

        Assert.NotNull(first);
        Assert.Null(mapped);
        Assert.Equal("too many connections from your address (max 1)", refusal.Message);
        Assert.NotNull(other);

        first!.Dispose();
        Assert.NotNull(Admit(admission, Here.MapToIPv6(), out _));
    }

    [Fact]
    public void A_denied_client_is_told_nothing_and_holds_no_slot()
    {
        var admission = Create(new SessionSettings { Access = AccessList.Create(["10.0.0.0/8"], []), MaxConnections = 1 });

        var denied = Admit(admission, Here, out var refusal);

        Assert.Null(denied);
        Assert.Equal(CloseReason.Denied, refusal.Reason);
        Assert.Empty(refusal.StreamLine());
        Assert.Equal(0, admission.Open);
        Assert.NotNull(Admit(admission, IPAddress.Parse("10.1.2.3"), out _));
    }

    [Fact]
    public void A_unix_peer_has_no_address_and_only_the_connection_limit_applies()
    {
        var admission = Create(new SessionSettings { Access = AccessList.Create(["10.0.0.0/8"], []), MaxConnectionsPerAddress = 1 });

        Assert.NotNull(admission.TryAdmit("u1", TransportKind.Unix, null, "unix", out _));
        Assert.NotNull(admission.TryAdmit("u2", TransportKind.Unix, null, "unix", out _));
        Assert.Equal(2, admission.OpenConnections);
    }

    [Fact]
    public void A_UDP_source_is_a_session_but_not_a_connection()
    {
        var admission = Create(new SessionSettings { MaxConnections = 5 });

        using var udp = admission.TryAdmit("d1", TransportKind.Udp, Here, "127.0.0.1:9", out _);
        using var tcp = Admit(admission, Here, out _);

        Assert.Equal(2, admission.Open);
        Assert.Equal(1, admission.OpenConnections);
    }

    private static SessionAdmission.Ticket? Admit(SessionAdmission admission, IPAddress address, out SessionAdmission.Refusal refusal) =>
        admission.TryAdmit(Guid.NewGuid().ToString("N"), TransportKind.Tcp, address, $"{address}:1", out refusal);

    private SessionAdmission Create(SessionSettings settings) =>
        new(new SessionRules(settings), new SessionLifecycle(new ShoutMetrics(_meters), _events, NullLogger<SessionLifecycle>.Instance));
}
