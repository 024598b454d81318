using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Shout.Sessions;
using Shout.Tests.Rooms;

namespace Shout.Tests.Sessions;

/// <summary>The one place every session on every seam opens and ends: one reason, recorded once, its slot given back.</summary>
public sealed class SessionLifecycleTests : IDisposable
{
    private readonly TestMeters _meters = new();
    private readonly ConnectionEventLog _events = new(TimeProvider.System);
    private readonly RecordingLogger _log = new();

    public void Dispose() => _meters.Dispose();

    [Fact]
    public void A_session_ends_once_with_its_failure_logged_before_its_one_reason_and_its_slot_given_back()
    {
        var lifecycle = new SessionLifecycle(new ShoutMetrics(_meters), _events, _log);
        var admission = new SessionAdmission(new SessionRules(new SessionSettings { MaxConnections = 1 }), lifecycle);
        var ticket = admission.TryAdmit("c1", TransportKind.Tcp, System.Net.IPAddress.Loopback, "127.0.0.1:1", out _);
        var session = lifecycle.Open("c1", TransportKind.Tcp, "127.0.0.1:1", ticket);

        lifecycle.End(session, new SessionEnd(CloseReason.Reset, "Connection reset by peer"));
        lifecycle.End(session, new SessionEnd(CloseReason.IdleTimeout));

        var closed = Assert.Single(_events.Latest(), e => e.Kind == ConnectionEventKind.Closed);
        Assert.Equal(CloseReason.Reset, closed.Reason);
        Assert.Equal(0, admission.Open);
        var records = _log.Records;
        var error = records.FindIndex(r => r.Message.Contains("connection error", StringComparison.Ordinal));
        Assert.True(error >= 0, string.Join(" | ", records.Select(r => r.Message)));
        Assert.Contains("Connection reset by peer", records[error].Message, StringComparison.Ordinal);
        Assert.Single(records, r => r.Message.Contains("connection error", StringComparison.Ordinal));
        Assert.True(error < records.FindIndex(r => r.Message.Contains("closed", StringComparison.OrdinalIgnoreCase)),
            string.Join(" | ", records.Select(r => r.Message)));
    }

    [Fact]
    public void The_exceptions_a_transport_ends_a_session_with_are_one_list_for_every_seam_and_a_defect_is_not_among_them()
    {
        Assert.True(SessionEnd.Ends(new ConnectionResetException("reset")));
        Assert.True(SessionEnd.Ends(new ConnectionAbortedException()));
        Assert.True(SessionEnd.Ends(new IOException()));
        Assert.True(SessionEnd.Ends(new SocketException((int)SocketError.ConnectionReset)));
        Assert.True(SessionEnd.Ends(new WebSocketException(WebSocketError.ConnectionClosedPrematurely)));
        Assert.True(SessionEnd.Ends(new OperationCanceledException()));
        Assert.False(SessionEnd.Ends(new ArgumentException("a defect")));
        Assert.False(SessionEnd.Ends(new InvalidOperationException()));
    }

    private sealed class RecordingLogger : ILogger<SessionLifecycle>
    {
        public List<(LogLevel Level, string Message)> Records { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Records.Add((logLevel, formatter(state, exception)));
    }
}
