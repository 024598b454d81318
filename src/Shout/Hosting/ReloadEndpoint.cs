using Microsoft.AspNetCore.Http;

namespace Shout.Hosting;

/// <summary>
/// The answer to an admitted <c>POST /reload</c>: the reload's lines as text; 200 when everything
/// applied, 409 when a changed setting needs a restart (it is not applied; the line says which),
/// 422 when something was kept because it failed.
/// </summary>
internal static class ReloadEndpoint
{
    public static Task WriteAsync(HttpContext context, ReloadResult result)
    {
        var lines = result.Changes.Select(c => $"reloaded: {c}").ToList();
        if (result.RestartNeeded.Count > 0)
        {
            lines.Add(SettingsReloader.RestartNeededLine(result.RestartNeeded));
        }

        lines.AddRange(result.Errors.Select(e => $"error: {e}"));
        if (lines.Count == 0)
        {
            lines.Add("reloaded: nothing changed");
        }

        context.Response.StatusCode = !result.Succeeded ? StatusCodes.Status422UnprocessableEntity
            : result.RestartNeeded.Count > 0 ? StatusCodes.Status409Conflict
            : StatusCodes.Status200OK;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(string.Join('\n', lines) + "\n", context.RequestAborted);
    }
}
