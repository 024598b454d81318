namespace Shout.Toxics;

/// <summary>
/// The toxics of one proxy, in the order they were added. Every connection reads the current list
/// for each chunk it forwards, so a toxic added, changed or removed acts on connections already
/// open; <see cref="WhenChanged"/> wakes the ones waiting on a timer (the timeout toxic).
/// </summary>
internal sealed class ToxicChain
{
    private readonly Lock _gate = new();
    private ToxicSpec[] _toxics = [];
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>The toxics now, oldest first (a snapshot; never changed in place).</summary>
    public ToxicSpec[] Current => Volatile.Read(ref _toxics);

    /// <summary>Completes at the next change.</summary>
    public Task WhenChanged
    {
        get
        {
            lock (_gate)
            {
                return _changed.Task;
            }
        }
    }

    public ToxicSpec? Find(string name) => Array.Find(Current, t => t.Name == name);

    /// <summary>Adds a toxic; false when one of that name exists.</summary>
    public bool TryAdd(ToxicSpec toxic) => Change(list => list.Any(t => t.Name == toxic.Name) ? null : [.. list, toxic]);

    /// <summary>Replaces the toxic of the same name; false when there is none.</summary>
    public bool TryReplace(ToxicSpec toxic) =>
        Change(list => list.Any(t => t.Name == toxic.Name) ? [.. list.Select(t => t.Name == toxic.Name ? toxic : t)] : null);

    public bool TryRemove(string name) => Change(list => list.Any(t => t.Name == name) ? [.. list.Where(t => t.Name != name)] : null);

    public void Clear() => Change(_ => []);

    private bool Change(Func<ToxicSpec[], ToxicSpec[]?> change)
    {
        TaskCompletionSource fired;
        lock (_gate)
        {
            var next = change(_toxics);
            if (next is null)
            {
                return false;
            }

            Volatile.Write(ref _toxics, next);
            fired = _changed;
            _changed = NewSignal();
        }

        fired.TrySetResult();
        return true;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
