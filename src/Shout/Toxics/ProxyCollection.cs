using Microsoft.Extensions.Logging;

namespace Shout.Toxics;

/// <summary>
/// Every proxy by name, and the operations of toxiproxy's API on them. Each operation checks all
/// of its input before it changes anything, so a refused request changes nothing. Operations are
/// serialized (they are rare and quick).
/// </summary>
internal sealed class ProxyCollection(ToxicRandom random, ILogger log)
{
    private readonly Dictionary<string, ToxicProxy> _proxies = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>For proxies made from now on: how long a udp proxy keeps an idle client source's flow.</summary>
    public TimeSpan DatagramIdle { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>For proxies made from now on: the certificate of tls:// listeners and the trust for tls:// upstreams.</summary>
    public ProxyTls Tls { get; set; } = new();

    public ToxicProxy[] All
    {
        get
        {
            lock (_gate)
            {
                return [.. _proxies.Values.OrderBy(p => p.Name, StringComparer.Ordinal)];
            }
        }
    }

    public ToxicProxy Get(string name)
    {
        lock (_gate)
        {
            return _proxies.TryGetValue(name, out var proxy) ? proxy : throw ToxiproxyError.ProxyNotFound();
        }
    }

    /// <summary>Adds a proxy and, when enabled, starts it listening (409 if the name is taken).</summary>
    public ToxicProxy Add(ProxyInput input)
    {
        lock (_gate)
        {
            if (_proxies.ContainsKey(input.Name))
            {
                throw new ToxiproxyError(409, "proxy already exists");
            }

            CheckKinds(input.Listen, input.Upstream);
            var proxy = new ToxicProxy(input.Name, input.Listen, input.Upstream, random, log, Tls) { DatagramIdle = DatagramIdle };
            if (input.Enabled)
            {
                StartOrRefuse(proxy);
            }

            _proxies.Add(input.Name, proxy);
            return proxy;
        }
    }

    /// <summary>Takes in a proxy made and started elsewhere (serve --toxic's fronts), so the API drives it.</summary>
    public void Adopt(ToxicProxy proxy)
    {
        lock (_gate)
        {
            if (!_proxies.TryAdd(proxy.Name, proxy))
            {
                throw new ArgumentException($"a proxy named {proxy.Name} exists", nameof(proxy));
            }
        }
    }

    public void Remove(string name)
    {
        ToxicProxy proxy;
        lock (_gate)
        {
            if (!_proxies.Remove(name, out proxy!))
            {
                throw ToxiproxyError.ProxyNotFound();
            }
        }

        proxy.Stop();
    }

    public ToxicProxy Update(string name, ProxyAddress listen, ProxyAddress upstream, bool enabled)
    {
        lock (_gate)
        {
            var proxy = Get(name);
            CheckKinds(listen, upstream);
            if (listen.Kind != proxy.Listen.Kind)
            {
                throw new ToxiproxyError(400, $"proxy {name} forwards {(proxy.Listen.IsDatagram ? "udp" : proxy.Listen.IsMessages ? "ws messages" : "streams")}; to change that, delete it and create it again");
            }

            try
            {
                proxy.Update(listen, upstream, enabled);
            }
            catch (System.Net.Sockets.SocketException e)
            {
                throw new ToxiproxyError(500, $"listen {listen}: {e.Message}");
            }

            return proxy;
        }
    }

    /// <summary>
    /// Creates or replaces each proxy of the list (toxiproxy's populate and -config): one of the
    /// same name and addresses is kept with its toxics, one with other addresses is replaced.
    /// </summary>
    public ToxicProxy[] Populate(IReadOnlyList<ProxyInput> inputs)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            if (!names.Add(input.Name))
            {
                throw ToxiproxyError.BadBody($"proxy '{input.Name}' is in the list twice");
            }

            CheckKinds(input.Listen, input.Upstream);
        }

        var result = new List<ToxicProxy>();
        lock (_gate)
        {
            foreach (var input in inputs)
            {
                if (_proxies.TryGetValue(input.Name, out var existing))
                {
                    if (existing.Upstream == input.Upstream && SameListen(existing, input.Listen))
                    {
                        existing.Update(existing.Listen, existing.Upstream, input.Enabled);
                        result.Add(existing);
                        continue;
                    }

                    _proxies.Remove(input.Name);
                    existing.Stop();
                }

                result.Add(Add(input));
            }
        }

        return [.. result];
    }

    /// <summary>Enables every proxy and removes every toxic (toxiproxy's /reset).</summary>
    public void Reset()
    {
        foreach (var proxy in All)
        {
            proxy.Toxics.Clear();
            if (!proxy.Enabled)
            {
                StartOrRefuse(proxy);
            }
        }
    }

    public void StopAll()
    {
        foreach (var proxy in All)
        {
            proxy.Stop();
        }
    }

    /// <summary>A udp listener forwards to a udp upstream, a ws one to ws, a stream listener to a stream upstream.</summary>
    private static void CheckKinds(ProxyAddress listen, ProxyAddress upstream)
    {
        if (ProxyAddress.Mismatch(listen, upstream) is { } reason)
        {
            throw new ToxiproxyError(400, reason);
        }
    }

    private static bool SameListen(ToxicProxy proxy, ProxyAddress listen) =>
        proxy.Listen == listen || (listen.Endpoint.Port == 0 && proxy.Listen.Endpoint.Host == listen.Endpoint.Host);

    private static void StartOrRefuse(ToxicProxy proxy)
    {
        try
        {
            proxy.Start();
        }
        catch (System.Net.Sockets.SocketException e)
        {
            // toxiproxy answers a listen failure with 500; so does Shout, with the reason.
            throw new ToxiproxyError(500, $"listen {proxy.Listen}: {e.Message}");
        }
    }
}
