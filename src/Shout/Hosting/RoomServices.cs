using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shout.Rooms.Bus;
using Shout.Rooms;

namespace Shout.Hosting;

/// <summary>Registers room mode's services: its metrics, the bus (NATS when an address is set) and the hub.</summary>
internal static class RoomServices
{
    public static void Add(IServiceCollection services, ShoutRoomOptions options, int maxLineLength)
    {
        services.AddSingleton(options);
        services.AddSingleton<RoomMetrics>();
        services.AddSingleton(s => new RoomBusStatus(s.GetService<TimeProvider>() ?? TimeProvider.System));
        if (options.Bus.Address is null)
        {
            services.AddSingleton<IRoomBus, InProcessRoomBus>();
        }
        else
        {
            services.AddSingleton(s => new NatsRoomBus(options, maxLineLength, s.GetRequiredService<RoomMetrics>(),
                s.GetRequiredService<ILogger<NatsRoomBus>>(), s.GetService<TimeProvider>() ?? TimeProvider.System,
                s.GetRequiredService<RoomBusStatus>()));
            services.AddSingleton<IRoomBus>(s => s.GetRequiredService<NatsRoomBus>());
            services.AddHostedService(s => s.GetRequiredService<NatsRoomBus>());
        }

        services.AddSingleton(s => new RoomHistory(options, s.GetService<TimeProvider>() ?? TimeProvider.System));
        services.AddSingleton(s => new RoomHub(s.GetRequiredService<IRoomBus>(), s.GetRequiredService<RoomMetrics>(), s.GetRequiredService<RoomHistory>()));
    }
}
