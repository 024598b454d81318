using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;
using Shout.Sessions;
using Shout.Tests.Rooms;

namespace Shout.Tests.Sessions;

/// <summary>The one owner of a session's life: opened, run, one reason mapped from how it ended, recorded once.</summary>
public sealed class SessionRunnerTests : IDisposable
{
    private readonly TestMeters _meters = new();
    private readonly ConnectionEventLog _events = new(TimeProvider.System);

    public void Dispose() => _meters.Dispose();

    [Fact]
    public async Task A_run_that_returns_is_opened_then_ended_with_its_reason_and_its_slot_given_back()
    {
        var (runner, admission) = Runner();
        var ticket = admission.TryAdmit("w1", TransportKind.Ws, System.Net.IPAddress.Loopback, "127.0.0.1:1", out _);
        var run = new Run(session =>
        {
            // Open while it runs: the event is there, the slot held.
            Assert.Contains(_events.Latest(), e => e.Kind == ConnectionEventKind.Opened && e.ConnectionId == session.Id);
            Assert.Equal(1, admission.Open);
            return Task.FromResult(CloseReason.ClientClosed);
        });

        var end = await runner.RunAsync("w1", TransportKind.Ws, "127.0.0.1:1", ticket, run);

        Assert.Equal(new SessionEnd(CloseReason.ClientClosed), end);
        Assert.Equal(CloseReason.ClientClosed, Assert.Single(_events.Latest(), e => e.Kind == ConnectionEventKind.Closed).Reason);
        Assert.Equal(0, admission.Open);
        Assert.Null(run.Failed);
    }

    [Fact]
    public async Task A_run_that_fails_is_mapped_to_one_reason_the_run_is_told_before_the_end_is_recorded()
    {
        var (runner, _) = Runner();
        var run = new Run(_ => throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "gone"))
        {
            State = new(null, null, Draining: false, Unexplained: CloseReason.KeepAliveTimeout),
        };
        run.OnFailed = () => Assert.DoesNotContain(_events.Latest(), e => e.Kind == ConnectionEventKind.Closed);

        var end = await runner.RunAsync("w2", TransportKind.Ws, "127.0.0.1:2", null, run);

        Assert.Equal(CloseReason.Reset, end.Reason);
        Assert.Equal("gone", end.Failure);
        Assert.Equal(CloseReason.Reset, run.Failed);
        Assert.Equal(CloseReason.Reset, Assert.Single(_events.Latest(), e => e.Kind == ConnectionEventKind.Closed).Reason);
    }

    [Fact]
    public async Task A_defect_is_not_caught_but_the_session_is_still_recorded_closed()
    {
        var (runner, _) = Runner();
        var run = new Run(_ => throw new InvalidOperationException("a bug"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => runner.RunAsync("w3", TransportKind.Ws, "127.0.0.1:3", null, run));

        Assert.Single(_events.Latest(), e => e.Kind == ConnectionEventKind.Closed);
        Assert.Null(run.Failed);
    }

    [Fact]
    public void The_open_end_pair_records_a_failure_and_ends_once()
    {
        var (runner, _) = Runner();
        var session = runner.Open("u1", TransportKind.Udp, "127.0.0.1:4", null);
        var reason = runner.Failed(session, new ConnectionAbortedException(), new(null, CloseReason.WriteTimeout, false, CloseReason.Reset));
        runner.End(session, reason);
        runner.End(session, CloseReason.IdleTimeout);

        Assert.Equal(CloseReason.WriteTimeout, Assert.Single(_events.Latest(), e => e.Kind == ConnectionEventKind.Closed).Reason);
    }

    [Fact]
    public async Task A_loop_is_opened_turned_until_a_turn_ends_it_then_ended_disposed_and_recorded_once()
    {
        var (runner, admission) = Runner();
        var ticket = admission.TryAdmit("s1", TransportKind.Tcp, System.Net.IPAddress.Loopback, "127.0.0.1:5", out _);
        var loop = new Loop(["a", "b", "yield", "quit"]) { OnOpened = () => Assert.Equal(1, admission.Open) };

        await runner.RunAsync("s1", TransportKind.Tcp, "127.0.0.1:5", ticket, loop);

        Assert.Equal(["opened", "turn a", "turn b", "turn yield", "turn quit", "end quit", "disposed"], loop.Calls);
        Assert.Equal(CloseReason.Quit, Assert.Single(_events.Latest(), e => e.Kind == ConnectionEventKind.Closed).Reason);
        Assert.Equal(0, admission.Open);
    }

    [Fact]
    public async Task A_loop_whose_transport_fails_is_mapped_to_one_reason_disposed_and_recorded_once()
    {
        var (runner, _) = Runner();
        var loop = new Loop(["a", "fail"]) { State = new(null, CloseReason.WriteTimeout, false, CloseReason.Reset) };

        await runner.RunAsync("s2", TransportKind.Tcp, "127.0.0.1:6", null, loop);

        Assert.Equal(["opened", "turn a", "disposed"], loop.Calls);
        Assert.Equal(CloseReason.WriteTimeout, Assert.Single(_events.Latest(), e => e.Kind == ConnectionEventKind.Closed).Reason);
    }

    [Fact]
    public async Task A_session_without_a_loop_ends_through_its_protocol_and_is_recorded_once()
    {
        var (runner, _) = Runner();
        var session = runner.Open("u2", TransportKind.Udp, "127.0.0.1:7", null);
        var ending = new Ending(CloseReason.SlowMember);

        await runner.EndAsync(session, ending, CloseReason.IdleTimeout);
        await runner.EndAsync(session, null, CloseReason.Reset);

        Assert.Equal(CloseReason.IdleTimeout, ending.Asked);
        Assert.True(ending.Disposed);
        Assert.Equal(CloseReason.SlowMember, Assert.Single(_events.Latest(), e => e.Kind == ConnectionEventKind.Closed).Reason);
    }

    public static TheoryData<string, CloseReason> Mappings => new()
    {
        // The protocol's own end comes first, whatever the failure.
        { "kicked+refused", CloseReason.SlowMember },
        // A frame the runtime refused is a protocol error, even with a timeout set.
        { "refused+expired", CloseReason.ProtocolError },
        // The runtime's own abort (a pong overdue) is no refusal.
        { "aborted", CloseReason.KeepAliveTimeout },
        { "expired+hungup", CloseReason.WriteTimeout },
        { "draining+hungup", CloseReason.ServerDrain },
        { "hungup", CloseReason.Reset },
        { "socket", CloseReason.Reset },
        { "stream-abort", CloseReason.Reset },
    };

    [Theory]
    [MemberData(nameof(Mappings))]
    public void How_a_failure_maps_to_its_one_reason(string failure, CloseReason expected)
    {
        var refused = new WebSocketException(WebSocketError.Faulted);
        var hungUp = new WebSocketException(WebSocketError.ConnectionClosedPrematurely);
        var (e, state) = failure switch
        {
            "kicked+refused" => ((Exception)refused, new SessionState(CloseReason.SlowMember, null, false, CloseReason.KeepAliveTimeout)),
            "refused+expired" => (new IOException("x", refused), new SessionState(null, CloseReason.IdleTimeout, false, CloseReason.KeepAliveTimeout)),
            "aborted" => (new OperationCanceledException("Aborted", refused), new SessionState(null, null, false, CloseReason.KeepAliveTimeout)),
            "expired+hungup" => (hungUp, new SessionState(null, CloseReason.WriteTimeout, true, CloseReason.KeepAliveTimeout)),
            "draining+hungup" => (hungUp, new SessionState(null, null, true, CloseReason.KeepAliveTimeout)),
            "hungup" => (hungUp, new SessionState(null, null, false, CloseReason.KeepAliveTimeout)),
            "socket" => (new SocketException((int)SocketError.ConnectionReset), new SessionState(null, null, false, CloseReason.KeepAliveTimeout)),
            _ => (new ConnectionAbortedException(), new SessionState(null, null, false, CloseReason.Reset)),
        };

        Assert.Equal(expected, SessionRunner.Reason(e, state));
    }

    private (SessionRunner, SessionAdmission) Runner()
    {
        var lifecycle = new SessionLifecycle(new ShoutMetrics(_meters), _events, NullLogger<SessionLifecycle>.Instance);
        return (new SessionRunner(lifecycle), new SessionAdmission(new SessionRules(new SessionSettings()), lifecycle));
    }

    private sealed class Run(Func<Session, Task<CloseReason>> run) : ISessionRun
    {
        public SessionState State { get; init; } = new(null, null, false, CloseReason.Reset);

        public CloseReason? Failed { get; private set; }

        public Action? OnFailed { get; set; }

        public Task<CloseReason> RunAsync(Session session) => run(session);

        public ValueTask FailedAsync(CloseReason reason)
        {
            OnFailed?.Invoke();
            Failed = reason;
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A loop over scripted inputs: "quit" ends it, "yield" asks to give the thread up, "fail" is a transport failure.</summary>
    private sealed class Loop(string[] inputs) : ISessionLoop<string>
    {
        private int _next;

        public List<string> Calls { get; } = [];

        public Action? OnOpened { get; init; }

        public SessionState State { get; init; } = new(null, null, false, CloseReason.Reset);

        public void Opened(Session session)
        {
            OnOpened?.Invoke();
            Calls.Add("opened");
        }

        public ValueTask<string> WaitAsync() => inputs[_next] == "fail"
            ? ValueTask.FromException<string>(new ConnectionAbortedException("aborted by the write timeout"))
            : ValueTask.FromResult(inputs[_next++]);

        public ValueTask<SessionTurn> TurnAsync(string input)
        {
            Calls.Add("turn " + input);
            return ValueTask.FromResult(new SessionTurn(input == "quit" ? CloseReason.Quit : null, input == "yield"));
        }

        public ValueTask<CloseReason> EndAsync(CloseReason reason)
        {
            Calls.Add("end " + (reason == CloseReason.Quit ? "quit" : reason.ToString()));
            return ValueTask.FromResult(reason);
        }

        public ValueTask DisposeAsync()
        {
            Calls.Add("disposed");
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A protocol's end that says it closes as <paramref name="closesAs"/>.</summary>
    private sealed class Ending(CloseReason closesAs) : ISessionEnding
    {
        public CloseReason? Asked { get; private set; }

        public bool Disposed { get; private set; }

        public ValueTask<CloseReason> EndAsync(CloseReason reason)
        {
            Asked = reason;
            return ValueTask.FromResult(closesAs);
        }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
