using System.Globalization;
using Microsoft.Extensions.Logging;
using Shout.Sessions;
using Shout.Transports.Admission;

namespace Shout.Hosting;

/// <summary>What the descriptor budget needs before the first connection (<see cref="DescriptorBudget"/>).</summary>
internal static class DescriptorStart
{
    /// <summary>
    /// Says when the connection limit was lowered to fit the open-file limit, and loads now what the
    /// first HTTP answer would load lazily: Kestrel's reason phrases come from an assembly of their own,
    /// and a type initializer that fails once (no descriptor left to open it) fails for the process's life.
    /// </summary>
    public static void Prepare(ShoutServerOptions options, SessionRules rules, ILogger logger)
    {
        var budget = rules.Budget;
        if (budget.Lowers(options.MaxConnections))
        {
            DescriptorLog.LimitLowered(logger, options.MaxConnections == 0 ? "0 (no limit)" : options.MaxConnections.ToString(CultureInfo.InvariantCulture),
                budget.Limit, budget.Limit - rules.Current.MaxConnections, rules.Current.MaxConnections);
        }

        if (options.Web.Address is not null)
        {
            _ = Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(503);
        }
    }
}
