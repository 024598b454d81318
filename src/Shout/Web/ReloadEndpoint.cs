using Microsoft.AspNetCore.Http;
using Shout.Server.Reload;

namespace Shout.Web;

/// <summary><c>POST /reload</c>: the reload's lines as text; 200 when everything applied, 422 when something was kept.</summary>
internal static class ReloadEndpoint
{
    public static IResult Answer(ReloadResult result)
    {
        var lines = result.Changes.Select(c => $"reloaded: {c}").Concat(result.Errors.Select(e => $"error: {e}")).ToList();
        if (lines.Count == 0)
        {
            lines.Add("reloaded: nothing changed");
        }

        return Results.Text(string.Join('\n', lines) + "\n", "text/plain; charset=utf-8", statusCode: result.Succeeded ? 200 : 422);
    }
}
