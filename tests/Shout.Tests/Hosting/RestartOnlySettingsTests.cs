using System.Reflection;
using Shout.Hosting;
using Shout.Transports;

namespace Shout.Tests.Hosting;

public sealed class RestartOnlySettingsTests
{
    private static readonly Type[] OptionGroups =
        [typeof(Shout.Rooms.ShoutRoomOptions), typeof(Shout.Rooms.ShoutBusOptions), typeof(SocketTuning), typeof(Shout.Web.ShoutWebOptions), typeof(Shout.Transports.Tls.ShoutTlsOptions)];

    [Fact]
    public void Every_server_option_is_either_applied_by_a_reload_or_reported_as_needing_a_restart()
    {
        // A new option must be classified: applied by SettingsReloader, or listed in RestartOnlySettings.
        var all = Properties(typeof(ShoutServerOptions), "").ToList();
        var classified = RestartOnlySettings.Properties.Concat(RestartOnlySettings.Reloadable).ToList();
        Assert.Empty(all.Except(classified));
        Assert.Empty(classified.Except(all));
        Assert.Equal(classified.Count, classified.Distinct().Count());
    }

    [Fact]
    public void Nothing_changed_reports_nothing_and_a_change_is_named_with_old_and_new_values_but_a_secret_without()
    {
        var started = new ShoutServerOptions();
        started.Web.ReloadToken = "first-token-0123456789";
        var settings = new RestartOnlySettings(started);
        var same = new ShoutServerOptions();
        same.Web.ReloadToken = "first-token-0123456789";
        same.MaxConnections = 1;
        Assert.Empty(settings.Changed(same));

        var fresh = new ShoutServerOptions { Mode = ShoutMode.Room, WriteTimeout = TimeSpan.FromMilliseconds(1500) };
        fresh.Listen.Add(Shout.Endpoints.ShoutEndpoint.Parse("tcp://127.0.0.1:9000"));
        fresh.Rooms.Bus.Address = Shout.Rooms.BusAddress.FromServer(new Uri("nats://user:secret@127.0.0.1:4222"));
        fresh.Web.ReloadToken = "second-token-0123456789";
        Assert.Equal(
            ["--listen none -> tcp://127.0.0.1:9000", "--mode stream -> room", "--bus changed", "--write-timeout 30s -> 1.5s", "reload token changed"],
            settings.Changed(fresh));
    }

    private static IEnumerable<string> Properties(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var name = prefix + property.Name;
            if (OptionGroups.Contains(property.PropertyType))
            {
                foreach (var inner in Properties(property.PropertyType, name + "."))
                {
                    yield return inner;
                }
            }
            else
            {
                yield return name;
            }
        }
    }
}
