using System.Globalization;
using Microsoft.AspNetCore.Http;
using Shout.Web;

namespace Shout.Hosting;

/// <summary>
/// <c>POST /reload</c>: a request without the reload token gets 401, a wrong token 403
/// (<see cref="ReloadToken"/>); one reload per <see cref="ShoutWebOptions.ReloadInterval"/>, the next
/// within it 429 with <c>Retry-After</c>, so a flood of requests costs no reloads. Every refusal is
/// counted (<see cref="WebRefusals"/>). SIGHUP is not limited: only the server's own user can send it.
/// Thread-safe.
/// </summary>
internal sealed class ReloadGate(ShoutWebOptions options, SettingsReloader reloader, WebRefusals refusals, TimeProvider clock)
{
    private readonly Lock _gate = new();
    private long _last = long.MinValue;

    /// <remarks>A plain <see cref="RequestDelegate"/>, not a minimal-API lambda, so Native AOT needs no generated binding.</remarks>
    public Task HandleAsync(HttpContext context)
    {
        // Checked at start (ShoutWebOptions.Validate): the endpoint is only mapped with a token.
        var token = options.ReloadToken!;
        switch (ReloadToken.Check(context.Request, token))
        {
            case ReloadCredential.Missing:
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"shout reload\"";
                return RefuseAsync(context, StatusCodes.Status401Unauthorized, "unauthorized",
                    $"POST /reload needs the reload token in an Authorization: Bearer header (or {ReloadToken.Header})");
            case ReloadCredential.Wrong:
                return RefuseAsync(context, StatusCodes.Status403Forbidden, "forbidden", "wrong reload token");
        }

        if (Wait() is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return RefuseAsync(context, StatusCodes.Status429TooManyRequests, "rate_limited",
                string.Create(CultureInfo.InvariantCulture, $"one reload per {options.ReloadInterval.TotalSeconds:0.###} s; retry in {seconds} s"));
        }

        return ReloadEndpoint.WriteAsync(context, reloader.Reload());
    }

    /// <summary>Null when a reload may start now (and takes the slot); otherwise how long until one may.</summary>
    private TimeSpan? Wait()
    {
        lock (_gate)
        {
            var now = clock.GetTimestamp();
            if (_last != long.MinValue && clock.GetElapsedTime(_last, now) is var since && since < options.ReloadInterval)
            {
                return options.ReloadInterval - since;
            }

            _last = now;
            return null;
        }
    }

    private Task RefuseAsync(HttpContext context, int status, string reason, string why)
    {
        refusals.Refused(context, reason, why);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync($"ERR {why}\n", context.RequestAborted);
    }
}
