using Microsoft.AspNetCore.Http;
using Shout.Server.Reload;

namespace Shout.Web;

/// <summary><c>POST /reload</c>: the reload's lines as text; 200 when everything applied, 422 when something was kept.</summary>
internal static class ReloadEndpoint
{
    /// <remarks>A plain <see cref="RequestDelegate"/>, not a minimal-API lambda, so Native AOT needs no generated binding.</remarks>
    public static Task WriteAsync(HttpContext context, ReloadResult result)
    {
        var lines = result.Changes.Select(c => $"reloaded: {c}").Concat(result.Errors.Select(e => $"error: {e}")).ToList();
        if (lines.Count == 0)
        {
            lines.Add("reloaded: nothing changed");
        }

        context.Response.StatusCode = result.Succeeded ? StatusCodes.Status200OK : StatusCodes.Status422UnprocessableEntity;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(string.Join('\n', lines) + "\n", context.RequestAborted);
    }
}
