using Shout.Toxics;

namespace Shout.Tests.Toxics;

/// <summary>The <c>--toxic</c> flag syntax and toxiproxy's toxic JSON: what is taken, what is refused and why.</summary>
public sealed class ToxicParsingTests
{
    [Theory]
    [InlineData("latency:downstream:latency=100,jitter=10", "latency_downstream", "latency", "downstream", 1.0, "latency=100 jitter=10")]
    [InlineData("bandwidth:upstream:rate=64", "bandwidth_upstream", "bandwidth", "upstream", 1.0, "rate=64")]
    [InlineData("reset_peer::timeout=500,toxicity=0.25", "reset_peer_downstream", "reset_peer", "downstream", 0.25, "timeout=500")]
    [InlineData("slow_close:delay=20,name=late", "late", "slow_close", "downstream", 1.0, "delay=20")]
    [InlineData("timeout", "timeout_downstream", "timeout", "downstream", 1.0, "timeout=0")]
    [InlineData("slicer:upstream:average_size=10,size_variation=5,delay=100", "slicer_upstream", "slicer", "upstream", 1.0,
        "average_size=10 size_variation=5 delay=100")]
    [InlineData("loss:upstream:toxicity=0.1", "loss_upstream", "loss", "upstream", 0.1, "")]
    [InlineData("duplicate::toxicity=0.05", "duplicate_downstream", "duplicate", "downstream", 0.05, "")]
    [InlineData("reorder:upstream:toxicity=0.2", "reorder_upstream", "reorder", "upstream", 0.2, "delay=10")]
    public void A_flag_gives_the_toxic(string flag, string name, string type, string stream, double toxicity, string attributes)
    {
        Assert.True(ToxicFlag.TryParse(flag, out var toxic, out var error), error);
        Assert.Equal(name, toxic!.Name);
        Assert.Equal(type, toxic.Type);
        Assert.Equal(stream, toxic.StreamName);
        Assert.Equal(toxicity, toxic.Toxicity);
        Assert.Equal(attributes, string.Join(' ', toxic.Attributes.Select(a => $"{a.Key}={a.Value}")));
    }

    [Theory]
    [InlineData("latency:sideways", "stream 'sideways' is neither upstream nor downstream")]
    [InlineData("lag:downstream", "invalid toxic type 'lag'")]
    [InlineData("latency::latency=-1", "latency latency -1 is out of range (0..3600000)")]
    [InlineData("latency::latency=99999999999", "out of range")]
    [InlineData("latency::latncy=5", "unknown attribute 'latncy' for latency (known: latency, jitter)")]
    [InlineData("latency::latency=1.5", "latency '1.5' is not a whole number")]
    [InlineData("latency::toxicity=2", "toxicity 2 is out of range (0..1)")]
    [InlineData("latency::toxicity=NaN", "toxicity NaN is out of range")]
    [InlineData("latency::100", "'100' is not KEY=VALUE")]
    [InlineData("slicer::average_size=5,size_variation=5", "size_variation 5 must be smaller than average_size")]
    [InlineData("bandwidth::rate=-3", "bandwidth rate -3 is out of range")]
    [InlineData("limit_data::bytes=-1", "limit_data bytes -1 is out of range")]
    [InlineData("loss::toxicity=1.5", "toxicity 1.5 is out of range (0..1)")]
    [InlineData("loss::percent=10", "unknown attribute 'percent' for loss")]
    [InlineData("reorder::delay=-5", "reorder delay -5 is out of range")]
    public void A_bad_flag_is_refused_with_a_reason(string flag, string reason)
    {
        Assert.False(ToxicFlag.TryParse(flag, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void Toxic_json_defaults_to_downstream_toxicity_1_and_type_stream_name()
    {
        var toxic = ProxyJson.ReadToxic(ProxyJson.Parse("""{"type":"latency","attributes":{"latency":5}}"""));
        Assert.Equal(("latency_downstream", ToxicStream.Downstream, 1.0, 5L, 0L),
            (toxic.Name, toxic.Stream, toxic.Toxicity, toxic["latency"], toxic["jitter"]));
    }

    [Fact]
    public void An_update_keeps_what_it_does_not_name()
    {
        var toxic = ProxyJson.ReadToxic(ProxyJson.Parse("""{"type":"latency","toxicity":0.5,"attributes":{"latency":5,"jitter":2}}"""));
        var updated = ProxyJson.ReadToxicUpdate(ProxyJson.Parse("""{"attributes":{"latency":9}}"""), toxic);
        Assert.Equal((9L, 2L, 0.5), (updated["latency"], updated["jitter"], updated.Toxicity));
    }

    [Theory]
    [InlineData("{", 400, "bad request body")]
    [InlineData("[]", 400, "expected a toxic as a JSON object")]
    [InlineData("""{"type":"latency","attributes":{"latency":"5"}}""", 400, "attribute latency must be a whole number")]
    [InlineData("""{"type":"latency","attributes":{"latency":5.5}}""", 400, "attribute latency must be a whole number")]
    [InlineData("""{"type":"latency","toxicity":"all"}""", 400, "toxicity must be a number")]
    [InlineData("""{"type":"latency","stream":"both"}""", 400, "stream was invalid, can be either upstream or downstream")]
    [InlineData("""{"type":7}""", 400, "type must be a string")]
    public void Bad_toxic_json_is_a_400_with_one_line(string json, int status, string reason)
    {
        var error = Assert.Throws<ToxiproxyError>(() => ProxyJson.ReadToxic(ProxyJson.Parse(json)));
        Assert.Equal(status, error.Status);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("""{"upstream":"127.0.0.1:1"}""", "missing required field: name")]
    [InlineData("""{"name":"a"}""", "missing required field: upstream")]
    [InlineData("""{"name":"a","upstream":"http://127.0.0.1:1"}""", "upstream: 'http://127.0.0.1:1': unknown scheme 'http://'")]
    [InlineData("""{"name":"a","upstream":"127.0.0.1:1","enabled":"yes"}""", "enabled must be true or false")]
    [InlineData("""{"name":"a","upstream":"127.0.0.1:99999"}""", "upstream: ")]
    public void Bad_proxy_json_is_a_400_with_one_line(string json, string reason)
    {
        var error = Assert.Throws<ToxiproxyError>(() => ProxyJson.ReadProxy(ProxyJson.Parse(json)));
        Assert.Equal(400, error.Status);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("loss", "stream", "loss acts on datagrams; it needs a udp proxy")]
    [InlineData("duplicate", "stream", "duplicate acts on datagrams")]
    [InlineData("reorder", "stream", "reorder acts on datagrams")]
    [InlineData("slicer", "udp", "slicer acts on streams; a udp proxy takes bandwidth, duplicate, latency, loss, reorder, timeout")]
    [InlineData("bandwidth", "udp", null)]
    [InlineData("timeout", "udp", null)]
    [InlineData("reset_peer", "udp", "reset_peer acts on streams")]
    [InlineData("latency", "udp", null)]
    [InlineData("latency", "stream", null)]
    [InlineData("loss", "udp", null)]
    [InlineData("loss", "ws", "loss acts on datagrams; a ws proxy takes latency, bandwidth, slicer, timeout, reset_peer, limit_data, slow_close")]
    [InlineData("slicer", "ws", null)]
    [InlineData("limit_data", "ws", null)]
    public void A_toxic_that_cannot_act_on_the_proxys_kind_is_refused(string type, string kind, string? reason)
    {
        Assert.Equal(reason is null, ToxicTypes.Refuses(type, kind) is null);
        if (reason is not null)
        {
            Assert.StartsWith(reason, ToxicTypes.Refuses(type, kind), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_ws_listener_forwards_to_ws_only()
    {
        var proxies = new ProxyCollection(new ToxicRandom(1), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        Assert.True(ProxyAddress.TryParse("ws://127.0.0.1:0/ws", out var ws, out _));
        Assert.True(ProxyAddress.TryParse("127.0.0.1:1", out var tcp, out _));
        var error = Assert.Throws<ToxiproxyError>(() => proxies.Add(new ProxyInput("m", ws!, tcp!, false)));
        Assert.Equal(400, error.Status);
        Assert.Contains("a ws or wss proxy to ws or wss", error.Message, StringComparison.Ordinal);
        Assert.Throws<ToxiproxyError>(() => proxies.Add(new ProxyInput("n", tcp!, ws!, false)));
        Assert.Empty(proxies.All);
    }

    [Theory]
    [InlineData("/ws", "/ws", "")]
    [InlineData("/ws", "/ws/lobby?x=1", "/lobby?x=1")]
    [InlineData("/ws", "/ws?x=1", "?x=1")]
    [InlineData("/ws", "/wsx", null)]
    [InlineData("/ws", "/other", null)]
    [InlineData("/", "/upper", "/upper")]
    public void A_ws_request_is_forwarded_with_the_path_past_the_listen_path(string listen, string target, string? rest)
    {
        Assert.Equal(rest, MessageHandshake.PastPath(listen, target));
    }

    [Fact]
    public void A_udp_listener_forwards_to_udp_only()
    {
        var proxies = new ProxyCollection(new ToxicRandom(1), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        Assert.True(ProxyAddress.TryParse("udp://127.0.0.1:0", out var udp, out _));
        Assert.True(ProxyAddress.TryParse("127.0.0.1:1", out var tcp, out _));
        var error = Assert.Throws<ToxiproxyError>(() => proxies.Add(new ProxyInput("m", udp!, tcp!, false)));
        Assert.Equal(400, error.Status);
        Assert.Contains("a udp proxy forwards to udp", error.Message, StringComparison.Ordinal);
        Assert.Empty(proxies.All);
    }
}
