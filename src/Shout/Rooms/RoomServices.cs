using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Shout.Rooms.Bus;

namespace Shout.Rooms;

/// <summary>Registers room mode's services: its metrics, the bus (NATS when an address is set) and the hub.</summary>
internal static class RoomServices
{
    public static void Add(IServiceCollection services, ShoutRoomOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<RoomMetrics>();
        if (options.Bus is null)
        {
            services.AddSingleton<IRoomBus, InProcessRoomBus>();
        }
        else
        {
            services.AddSingleton<NatsRoomBus>();
            services.AddSingleton<IRoomBus>(s => s.GetRequiredService<NatsRoomBus>());
            services.AddHostedService(s => s.GetRequiredService<NatsRoomBus>());
        }

        services.AddSingleton<RoomHub>();
    }
}
