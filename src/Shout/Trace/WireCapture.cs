using System.Globalization;
using System.Net;
using SharpPcap;
using SharpPcap.LibPcap;

namespace Shout.Trace;

/// <summary>
/// Captures the TCP and UDP packets of some ports through libpcap (SharpPcap), decoded by
/// PacketDotNet, and hands each to a callback on the capture's own thread. The capture is
/// running when <see cref="Start"/> returns, so traffic made after that is seen. Needs CAP_NET_RAW.
/// </summary>
internal sealed class WireCapture : IDisposable
{
    // Enough for link, IP and TCP headers with options, and the preview's bytes; the payload's
    // length comes from the headers, so larger segments cost no more to capture.
    private const int SnapLength = 256;

    private readonly LibPcapLiveDevice _device;
    private readonly Action<TracedPacket> _onPacket;
    private long _packets;
    private int _disposed;

    private WireCapture(LibPcapLiveDevice device, Action<TracedPacket> onPacket, string filter)
    {
        _device = device;
        _onPacket = onPacket;
        Filter = filter;
    }

    /// <summary>The interface captured on, e.g. <c>lo</c> or <c>any</c>.</summary>
    public string Interface => _device.Name;

    /// <summary>The BPF filter, e.g. <c>tcp port 8080 or udp port 8080</c>.</summary>
    public string Filter { get; }

    /// <summary>Packets delivered so far.</summary>
    public long Packets => Interlocked.Read(ref _packets);

    /// <summary>
    /// The BPF filter for the given ports (<c>tcp port P or udp port P</c>) or, with an address, for
    /// that address and port as one end of the packet.
    /// </summary>
    public static string FilterFor(IEnumerable<int> ports, IPAddress? address)
    {
        ArgumentNullException.ThrowIfNull(ports);
        var list = ports.Distinct().Order().ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("at least one port is needed", nameof(ports));
        }

        if (address is null || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return string.Join(" or ", list.Select(p => string.Create(CultureInfo.InvariantCulture, $"tcp port {p} or udp port {p}")));
        }

        // The address and the port together, on the same side of the packet: another server on the
        // same port of another address (127.0.0.2:P) and a client that happens to use port P stay out.
        var sides = string.Join(" or ", list.Select(p => string.Create(CultureInfo.InvariantCulture,
            $"(src host {address} and src port {p}) or (dst host {address} and dst port {p})")));
        return $"(tcp or udp) and ({sides})";
    }

    /// <summary>
    /// The interface for an address: <c>lo</c> for a loopback address, else <c>any</c> (every
    /// interface, loopback included).
    /// </summary>
    public static string InterfaceFor(IPAddress? address) => address is not null && IPAddress.IsLoopback(address) ? "lo" : "any";

    /// <summary>Opens the interface, sets the filter and starts capturing.</summary>
    /// <param name="interfaceName">e.g. <c>lo</c> or <c>any</c>.</param>
    /// <param name="filter">A BPF filter, e.g. from <see cref="FilterFor"/>.</param>
    /// <param name="onPacket">Called on the capture's thread for each TCP or UDP packet.</param>
    /// <param name="immediate">
    /// True: each packet is handed over as it arrives (a live terminal view). False: the kernel hands
    /// them over in batches, at most 100 ms late, which costs a busy server far fewer wake-ups.
    /// </param>
    /// <exception cref="TraceUnavailableException">The capture cannot start; the message says why in one line.</exception>
    public static WireCapture Start(string interfaceName, string filter, Action<TracedPacket> onPacket, bool immediate = true)
    {
        ArgumentNullException.ThrowIfNull(onPacket);
        LibPcapLiveDevice device;
        try
        {
            device = LibPcapLiveDeviceList.New().FirstOrDefault(d => d.Name == interfaceName)
                ?? throw new TraceUnavailableException($"no network interface named '{interfaceName}'");
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            throw new TraceUnavailableException("libpcap is not installed (Debian: apt-get install libpcap0.8)", e);
        }
        catch (PcapException e)
        {
            throw Unavailable(e, interfaceName);
        }

        var capture = new WireCapture(device, onPacket, filter);
        try
        {
            device.Open(new DeviceConfiguration
            {
                Mode = DeviceModes.None,
                Snaplen = SnapLength,
                ReadTimeout = 100,

                Immediate = immediate,
            });
            device.Filter = filter;
            device.OnPacketArrival += capture.Arrived;
            device.StartCapture();
            return capture;
        }
        catch (PcapException e)
        {
            device.Dispose();
            throw Unavailable(e, interfaceName);
        }
    }

    /// <summary>Stops the capture and closes the interface.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _device.StopCapture();
        }
        catch (PcapException)
        {
            // Already stopped by an error: nothing to stop.
        }

        _device.OnPacketArrival -= Arrived;
        _device.Dispose();
    }

    private void Arrived(object sender, PacketCapture e)
    {
        var raw = e.GetPacket();
        if (PacketDecoder.Decode(raw.LinkLayerType, raw.Data, new DateTimeOffset(raw.Timeval.Date, TimeSpan.Zero)) is { } packet)
        {
            Interlocked.Increment(ref _packets);
            _onPacket(packet);
        }
    }

    private static TraceUnavailableException Unavailable(PcapException e, string interfaceName)
    {
        var text = e.Message.ReplaceLineEndings(" ").Trim();
        var denied = text.Contains("permission", StringComparison.OrdinalIgnoreCase)
            || text.Contains("not permitted", StringComparison.OrdinalIgnoreCase);
        return denied
            ? new TraceUnavailableException($"cannot capture on {interfaceName}: not permitted; {TraceUnavailableException.PermissionHint}", e) { NotPermitted = true }
            : new TraceUnavailableException($"cannot capture on {interfaceName}: {text}", e);
    }
}
