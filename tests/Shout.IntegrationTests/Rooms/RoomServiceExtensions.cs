using Microsoft.Extensions.DependencyInjection;
using Shout.Rooms;

namespace Shout.IntegrationTests.Rooms;

internal static class RoomServiceExtensions
{
    public static RoomMetrics GetRoomMetrics(this IServiceProvider services) => services.GetRequiredService<RoomMetrics>();
}
