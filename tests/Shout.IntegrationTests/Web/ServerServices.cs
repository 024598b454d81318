using Microsoft.Extensions.DependencyInjection;
using Shout.Sessions;

namespace Shout.IntegrationTests.Web;

internal static class ServerServices
{
    public static IReadOnlyList<ConnectionEvent> GetEvents(this IServiceProvider services) =>
        services.GetRequiredService<IConnectionEvents>().Latest();

    public static SessionAdmission GetAdmission(this IServiceProvider services) => services.GetRequiredService<SessionAdmission>();
}
