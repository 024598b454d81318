using Shout.Hosting;
using Shout.Web;

namespace Shout.Cli.Commands;

/// <summary>
/// Where <c>serve</c> finds the token <c>POST /reload</c> needs: the file <c>--reload-token-file</c>
/// names, or the variable <c>SHOUT_RELOAD_TOKEN</c>. Never a flag or the configuration file, so the
/// secret is not in the process list or a file others may read (as <c>SHOUT_TLS_PASSWORD</c>). Without
/// a token there is no <c>/reload</c>: SIGHUP still reloads.
/// </summary>
internal static class ReloadTokenSource
{
    public const string Variable = "SHOUT_RELOAD_TOKEN";

    /// <summary>Sets the web options' token from the sources; a problem is added to <paramref name="errors"/> in one line.</summary>
    public static void Apply(ServeRun run, List<string> errors)
    {
        var variable = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } text ? text.Trim() : null;
        string? token;
        if (run.ReloadTokenFile is { } path)
        {
            if (variable is not null)
            {
                errors.Add($"the reload token comes from --reload-token-file or ${Variable}, not both");
                return;
            }

            try
            {
                token = ReloadToken.Read(path);
            }
            catch (FormatException e)
            {
                errors.Add(e.Message);
                return;
            }
        }
        else if (variable is not null)
        {
            if (ReloadToken.Problem(variable) is { } problem)
            {
                errors.Add($"${Variable}: {problem}");
                return;
            }

            token = variable;
        }
        else
        {
            return;
        }

        if (!run.Options.Web.ReloadEndpoint)
        {
            errors.Add("a reload token is set but POST /reload is off; add --reload-endpoint (or remove the token)");
            return;
        }

        run.Options.Web.ReloadToken = token;
    }
}
