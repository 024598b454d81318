using System.Net;
using Microsoft.AspNetCore.Http;
using Shout.Sessions;

namespace Shout.Web;

/// <summary>
/// The web endpoint's per-request checks, before any route:
/// <list type="bullet">
/// <item>The <c>Host</c> header must name this server (<see cref="ShoutWebOptions.Hosts"/>; by default
/// an IP literal, <c>localhost</c> or the machine's host name), else 421. This is what stops DNS
/// rebinding: a page from <c>evil.example</c> whose name is made to resolve to 127.0.0.1 reaches the
/// port with <c>Host: evil.example</c>, and its script would otherwise read <c>/metrics</c> and
/// <c>/live</c> as if same-origin. An IP literal is safe: no other site's DNS can make a browser send it.</item>
/// <item><c>/metrics</c>, <c>/live</c> and <c>/reload</c> answer only clients in
/// <see cref="ShoutWebOptions.AdminAllow"/> (default loopback), else 403: they show other clients'
/// addresses and payloads, and change settings.</item>
/// </list>
/// Each refusal is one line. Thread-safe.
/// </summary>
internal sealed class WebGate
{
    private static readonly IPNetwork[] Loopback = [new(IPAddress.Loopback, 8), new(IPAddress.IPv6Loopback, 128)];
    private static readonly string[] AdminPaths = ["/metrics", "/live", "/reload"];

    private readonly IPNetwork[] _admin;
    private readonly HashSet<string>? _hosts;
    private readonly string _machine;

    public WebGate(ShoutWebOptions options)
    {
        _admin = options.AdminAllow.Count > 0 ? [.. options.AdminAllow] : Loopback;
        _hosts = options.Hosts.Count > 0 ? new HashSet<string>(options.Hosts.Select(h => h.Trim().TrimEnd('.')), StringComparer.OrdinalIgnoreCase) : null;
        _machine = Dns.GetHostName();
    }

    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var host = context.Request.Host;
        if (host.HasValue && !Serves(host.Host))
        {
            return RefuseAsync(context, StatusCodes.Status421MisdirectedRequest,
                $"this server does not answer to host '{host.Host}' (list its names with --web-host)");
        }

        if (IsAdminPath(context.Request.Path) && !IsAdmin(context.Connection.RemoteIpAddress))
        {
            return RefuseAsync(context, StatusCodes.Status403Forbidden,
                $"{context.Request.Path} is for the admin networks only (--admin-allow; default loopback)");
        }

        return next(context);
    }

    /// <summary>True when <paramref name="name"/> (the <c>Host</c> header without its port) names this server.</summary>
    internal bool Serves(string name)
    {
        var bare = name.Trim().TrimEnd('.');
        if (_hosts is not null)
        {
            return _hosts.Contains(bare);
        }

        return IPAddress.TryParse(bare.Trim('[', ']'), out _)
            || bare.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || bare.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || bare.Equals(_machine, StringComparison.OrdinalIgnoreCase);
    }

    internal bool IsAdmin(IPAddress? address)
    {
        if (address is null)
        {
            // No IP peer (a test server, a Unix socket): nothing to check it against, as the access lists.
            return true;
        }

        address = PeerAddress.Normalize(address);
        foreach (var network in _admin)
        {
            if (network.BaseAddress.AddressFamily == address.AddressFamily && network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsAdminPath(PathString path)
    {
        var value = path.Value is { Length: > 1 } p ? p.TrimEnd('/') : path.Value ?? "/";
        return AdminPaths.Any(a => a.Equals(value, StringComparison.OrdinalIgnoreCase));
    }

    private static Task RefuseAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync($"ERR {message}\n", context.RequestAborted);
    }
}
