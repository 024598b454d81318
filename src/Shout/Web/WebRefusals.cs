using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Shout.Sessions;

namespace Shout.Web;

/// <summary>
/// Web requests refused before they were served that are not connections of a transport: a cross-site
/// <c>/live</c>, a <c>POST /reload</c> without the token or over the rate. Counted on the <c>Shout</c>
/// meter (<c>shout_web_refused_total</c>, by path and reason) and logged like a refused connection.
/// Thread-safe.
/// </summary>
internal sealed partial class WebRefusals
{
    private readonly Counter<long> _refused;
    private readonly ILogger<WebRefusals> _logger;

    public WebRefusals(IMeterFactory meterFactory, ILogger<WebRefusals> logger)
    {
        _refused = meterFactory.Create(ShoutMetrics.MeterName).CreateCounter<long>("shout.web.refused", "{request}",
            "Web requests refused before being served (cross-site origin, missing or wrong reload token, reload rate), by path and reason");
        _logger = logger;
    }

    /// <summary>Counts and logs one refusal; <paramref name="reason"/> is a snake_case label, <paramref name="why"/> one line.</summary>
    public void Refused(Microsoft.AspNetCore.Http.HttpContext context, string reason, string why)
    {
        // Lower-case: routes match in any case, and a label must not take whatever spelling a client sends.
        var path = (context.Request.Path.Value ?? "").ToLowerInvariant();
        _refused.Add(1, new KeyValuePair<string, object?>("path", path), new KeyValuePair<string, object?>("reason", reason));
        var address = context.Connection.RemoteIpAddress;
        var remote = address is null ? "?" : PeerAddress.Describe(new System.Net.IPEndPoint(address, context.Connection.RemotePort));
        Log.Refused(_logger, context.Connection.Id, path, remote, why, reason);
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.WebRefused, LogLevel.Debug, "{ConnectionId} {Path} refused from {Remote}: {Why} (reason {Reason})", EventName = "WebRefused")]
        public static partial void Refused(ILogger logger, string connectionId, string path, string remote, string why, string reason);
    }
}
