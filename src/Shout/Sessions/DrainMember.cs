namespace Shout.Sessions;

/// <summary>
/// A session that <see cref="DrainSignal"/> tells when the drain begins, linked into its one list
/// of open sessions: 16 bytes in an object the session holds anyway, where a registration on a
/// cancellation token per session cost an idle connection 168 bytes (the callback node, the
/// source's registration table, the handle in the loop's state).
/// </summary>
internal abstract class DrainMember
{
    /// <summary>The list's links; <see cref="DrainSignal"/>'s, under its lock.</summary>
    internal DrainMember? Previous { get; set; }

    /// <summary>The list's links; <see cref="DrainSignal"/>'s, under its lock.</summary>
    internal DrainMember? Next { get; set; }

    /// <summary>Whether the member is in the list.</summary>
    internal bool Listed { get; set; }

    /// <summary>The drain began (or had begun when the member joined): answer what is buffered, then close.</summary>
    public abstract void Drain();
}
