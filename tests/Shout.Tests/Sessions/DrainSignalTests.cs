using Shout.Sessions;

namespace Shout.Tests.Sessions;

/// <summary>The server's one list of sessions that the drain tells (<see cref="DrainSignal"/>).</summary>
public sealed class DrainSignalTests
{
    private readonly DrainSignal _drain = new();

    [Fact]
    public void The_drain_tells_every_member_still_listed_once_and_not_those_that_left()
    {
        var members = Enumerable.Range(0, 100).Select(_ => new Member()).ToList();
        members.ForEach(_drain.Join);
        foreach (var m in members.Where((_, i) => i % 3 == 0))
        {
            _drain.Leave(m);
        }

        Assert.Equal(66, _drain.Members);
        _drain.Begin();
        _drain.Begin();

        Assert.All(members.Select((m, i) => (m, i)), p => Assert.Equal(p.i % 3 == 0 ? 0 : 1, p.m.Drains));
        Assert.Equal(0, _drain.Members);
    }

    [Fact]
    public void A_member_joining_after_the_drain_began_is_told_at_once_and_not_listed()
    {
        _drain.Begin();
        var late = new Member();

        _drain.Join(late);
        _drain.Leave(late);

        Assert.Equal(1, late.Drains);
        Assert.Equal(0, _drain.Members);
    }

    [Fact]
    public void A_member_may_leave_while_it_is_told_as_a_session_ending_inline_does()
    {
        var members = Enumerable.Range(0, 10).Select(_ => new Member()).ToList();
        foreach (var m in members)
        {
            m.OnDrain = () => _drain.Leave(m);
            _drain.Join(m);
        }

        _drain.Begin();

        Assert.All(members, m => Assert.Equal(1, m.Drains));
        Assert.Equal(0, _drain.Members);
    }

    private sealed class Member : DrainMember
    {
        public int Drains { get; private set; }

        public Action? OnDrain { get; set; }

        public override void Drain()
        {
            Drains++;
            OnDrain?.Invoke();
        }
    }
}
