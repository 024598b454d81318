namespace Shout.Trace;

/// <summary>
/// The capture cannot start: no permission (CAP_NET_RAW), no libpcap, no such interface, or a
/// filter libpcap refused. <see cref="Exception.Message"/> is one line that says what to do.
/// </summary>
internal sealed class TraceUnavailableException : Exception
{
    /// <summary>The hint printed when the capture is not permitted.</summary>
    public const string PermissionHint =
        "capturing packets needs CAP_NET_RAW: run as root, or grant it once with "
        + "'sudo setcap cap_net_raw,cap_net_admin+eip <binary>' (for 'dotnet shout.dll', the dotnet binary)";

    /// <inheritdoc/>
    public TraceUnavailableException()
    {
    }

    /// <inheritdoc/>
    public TraceUnavailableException(string message)
        : base(message)
    {
    }

    /// <inheritdoc/>
    public TraceUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>True when the cause is a missing permission, not a missing library or device.</summary>
    public bool NotPermitted { get; init; }
}
