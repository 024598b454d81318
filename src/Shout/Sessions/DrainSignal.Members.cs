namespace Shout.Sessions;

/// <summary>The sessions the drain reaches: one list for the server instead of a registration per session.</summary>
internal sealed partial class DrainSignal
{
    private readonly Lock _members = new();
    private DrainMember? _first;
    private bool _draining;

    /// <summary>Sessions (and UDP sockets) listed now.</summary>
    internal int Members { get; private set; }

    /// <summary>
    /// Lists <paramref name="member"/> until <see cref="Leave"/>; if the drain has already begun it is
    /// told at once, as a late registration on a cancelled token would be.
    /// </summary>
    public void Join(DrainMember member)
    {
        lock (_members)
        {
            if (!_draining)
            {
                member.Next = _first;
                member.Previous = null;
                if (_first is not null)
                {
                    _first.Previous = member;
                }

                _first = member;
                member.Listed = true;
                Members++;
                return;
            }
        }

        member.Drain();
    }

    /// <summary>Takes <paramref name="member"/> off the list (its session ended); harmless if it is not on it.</summary>
    public void Leave(DrainMember member)
    {
        lock (_members)
        {
            if (!member.Listed)
            {
                return;
            }

            if (member.Previous is not null)
            {
                member.Previous.Next = member.Next;
            }
            else
            {
                _first = member.Next;
            }

            if (member.Next is not null)
            {
                member.Next.Previous = member.Previous;
            }

            member.Previous = member.Next = null;
            member.Listed = false;
            Members--;
        }
    }

    /// <summary>Tells every listed member, once; members joining later are told as they join.</summary>
    private void DrainMembers()
    {
        // Taken off the list under the lock, told outside it: a member's drain may end its session at
        // once on this thread (inline scheduling), and its Leave takes the lock.
        DrainMember? member;
        lock (_members)
        {
            if (_draining)
            {
                return;
            }

            _draining = true;
            member = _first;
            _first = null;
            for (var m = member; m is not null; m = m.Next)
            {
                m.Listed = false;
            }

            Members = 0;
        }

        while (member is not null)
        {
            var next = member.Next;
            member.Previous = member.Next = null;
            member.Drain();
            member = next;
        }
    }
}
