using Microsoft.Extensions.Logging;

namespace Shout.Transports.Admission;

/// <summary>Log lines of the descriptor budget (<see cref="Sessions.DescriptorBudget"/>).</summary>
internal static partial class DescriptorLog
{
    [LoggerMessage(LogEvents.DescriptorLimitLowered, LogLevel.Warning,
        "--max-connections {Asked} does not fit the open-file limit of {Limit} descriptors (about {Share} are kept for the process itself): lowered to {Lowered}; raise the limit (ulimit -n, LimitNOFILE=) to allow more",
        EventName = "DescriptorLimitLowered")]
    public static partial void LimitLowered(ILogger logger, string asked, int limit, int share, int lowered);

    [LoggerMessage(LogEvents.AcceptPaused, LogLevel.Warning,
        "{Endpoint}: not accepting connections while fewer than {Reserve} of {Limit} descriptors are free; new clients wait in the listen queue",
        EventName = "AcceptPaused")]
    public static partial void Paused(ILogger logger, string endpoint, int reserve, int limit);

    [LoggerMessage(LogEvents.AcceptResumed, LogLevel.Information, "{Endpoint}: accepting connections again", EventName = "AcceptResumed")]
    public static partial void Resumed(ILogger logger, string endpoint);
}
