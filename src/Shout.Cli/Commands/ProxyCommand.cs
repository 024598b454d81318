using System.CommandLine.Parsing;
using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Shout.Cli.Parsing;
using Shout.Configuration;
using Shout.Endpoints;
using Shout.Toxics;
using Shout.Transports;

namespace Shout.Cli.Commands;

/// <summary>
/// <c>shout proxy</c>: a TCP/Unix stream proxy or a UDP datagram proxy in front of any server, with
/// toxiproxy's toxics (latency, bandwidth, slicer, timeout, reset_peer, limit_data, slow_close) and
/// datagram toxics (loss, duplicate, reorder) given as flags and changed at runtime through
/// toxiproxy's REST API, which toxiproxy's clients drive unchanged.
/// </summary>
internal static class ProxyCommand
{
    public static Command Create()
    {
        var listen = new Option<ProxyAddress?>("--listen", "-l")
        {
            Description = "Where the proxy listens: tcp://HOST:PORT, HOST:PORT, tls://HOST:PORT (terminates TLS), unix:///path, udp://HOST:PORT or ws://HOST:PORT/PATH, wss://… (messages) (with --to).",
            HelpName = "address",
            CustomParser = Address,
        };
        var to = new Option<ProxyAddress?>("--to")
        {
            Description = "The server every connection (or udp client source) is forwarded to: tcp://HOST:PORT, HOST:PORT, tls://HOST:PORT (TLS again), unix:///path, udp://HOST:PORT or ws://HOST:PORT/PATH, wss://… (with --listen).",
            HelpName = "address",
            CustomParser = Address,
        };
        var name = new Option<string>("--name")
        {
            Description = "The proxy's name in the API. Default: shout.",
            DefaultValueFactory = _ => "shout",
            HelpName = "name",
        };
        var toxic = new Option<ToxicSpec[]>("--toxic")
        {
            Description = $"A toxic on the --listen proxy (repeatable): {ToxicFlag.Form}, e.g. latency:downstream:latency=100,jitter=10. Types: {ToxicTypes.Known}.",
            HelpName = "toxic",
            AllowMultipleArgumentsPerToken = false,
            CustomParser = Toxics,
        };
        var api = new Option<ApiListen>("--api")
        {
            Description = "Where toxiproxy's REST API listens (HOST:PORT, port 0 for any), or 'none'. Default: 127.0.0.1:8474, as toxiproxy.",
            DefaultValueFactory = _ => new ApiListen(new IPEndPoint(IPAddress.Loopback, 8474)),
            HelpName = "address|none",
            CustomParser = ApiAddress,
        };
        var proxies = new Option<FileInfo?>("--proxies")
        {
            Description = "Proxies to create at start from a JSON file in toxiproxy's -config format (a list of {name, listen, upstream, enabled}).",
            HelpName = "file",
        };
        var seed = new Option<int?>("--seed")
        {
            Description = "A fixed seed for toxicity, jitter and slice sizes, so a run can be repeated. Default: random.",
            HelpName = "number",
            CustomParser = CliValues.OptionalInt(0),
        };
        var udpIdle = new Option<TimeSpan>("--udp-idle")
        {
            Description = "A udp proxy forgets a client source (closes its upstream socket) after this long without a datagram either way. Default: 60s.",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(60),
            HelpName = "duration",
            CustomParser = CliValues.Duration,
        };
        var tlsCert = new Option<FileInfo?>("--tls-cert")
        {
            Description = $"The certificate tls:// listeners show (they terminate TLS): PKCS#12, or PEM with its key inside or in --tls-key; password from ${ServeCommand.TlsPasswordVariable}. Default: a self-signed one made at start.",
            HelpName = "file",
        };
        var tlsKey = new Option<FileInfo?>("--tls-key") { Description = "The PEM private key of a PEM --tls-cert.", HelpName = "file" };
        var upstreamCa = new Option<FileInfo?>("--upstream-ca")
        {
            Description = "PEM certificates a tls:// upstream's certificate must chain to (its CA, or its own certificate). Default: the system's roots.",
            HelpName = "file",
        };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log on stderr each proxy started or stopped, not only upstreams that could not be reached." };
        var command = new Command("proxy", "Forward connections to a server through toxics (latency, bandwidth, resets, …), controlled by toxiproxy's API.")
        {
            listen, to, name, toxic, api, proxies, seed, udpIdle, tlsCert, tlsKey, upstreamCa, verbose,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (listenAt, upstream, toxics) = (parse.GetValue(listen), parse.GetValue(to), parse.GetValue(toxic) ?? []);
            if ((listenAt is null) != (upstream is null))
            {
                return await CliRunner.UsageErrorAsync(parse, "--listen and --to go together");
            }

            if (listenAt is not null && ProxyAddress.Mismatch(listenAt, upstream!) is { } mismatch)
            {
                return await CliRunner.UsageErrorAsync(parse, $"--{mismatch.Replace(" upstream ", " --to ", StringComparison.Ordinal)}");
            }

            if (parse.GetValue(udpIdle) <= TimeSpan.Zero)
            {
                return await CliRunner.UsageErrorAsync(parse, "--udp-idle must be more than 0");
            }

            if (listenAt is null && toxics.Length > 0)
            {
                return await CliRunner.UsageErrorAsync(parse, "--toxic needs --listen and --to (toxics of --proxies proxies are added through the API)");
            }

            ProxyInput[] fromFile = [];
            if (parse.GetValue(proxies) is { } file)
            {
                try
                {
                    var text = System.Text.Encoding.UTF8.GetString(OptionFile.ReadAllBytes("--proxies", file.FullName, SizeLimits.TextFile));
                    fromFile = ProxyJson.ReadProxyList(ProxyJson.Parse(text));
                }
                catch (Exception e) when (e is ToxiproxyError or IOException or UnauthorizedAccessException or FormatException)
                {
                    await Console.Error.WriteLineAsync($"shout proxy: --proxies {file.Name}: {e.Message}");
                    return 1;
                }
            }

            ProxyTls tls;
            try
            {
                tls = ProxyTlsFiles.Load(parse.GetValue(tlsCert), parse.GetValue(tlsKey), parse.GetValue(upstreamCa));
            }
            catch (OptionFileException e)
            {
                return await CliRunner.UsageErrorAsync(parse, e.Message);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"shout proxy: {e.Message}");
                return 1;
            }

            return await RunAsync(listenAt, upstream, parse.GetValue(name)!, toxics, parse.GetValue(api)!.EndPoint, fromFile, parse.GetValue(seed), parse.GetValue(udpIdle),
                tls, parse.GetValue(verbose), cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(ProxyAddress? listen, ProxyAddress? upstream, string name, ToxicSpec[] toxics, IPEndPoint? api,
        ProxyInput[] fromFile, int? seed, TimeSpan udpIdle, ProxyTls tls, bool verbose, CancellationToken cancellationToken)
    {
        // Socket completions run on the epoll thread that saw them: a straight copy (receive, send,
        // receive) then costs no thread-pool hop per chunk, which measured about twice the forwarding
        // rate on one core (docs/benchmarks.md, "shout proxy"). Safe because nothing on that path
        // blocks: a toxic's wait is a timer. Must precede the first socket; the environment can
        // still say otherwise.
        if (Environment.GetEnvironmentVariable(SocketTuning.InlineCompletionsVariable) is null)
        {
            Environment.SetEnvironmentVariable(SocketTuning.InlineCompletionsVariable, "1");
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        ToxicProxyServer server;
        try
        {
            server = await ToxicProxyServer.StartAsync(api, seed, logging => logging
                .SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning)
                .AddFilter("Microsoft", LogLevel.None) // the API host's own failures are told in one line below
                .AddSimpleConsole(o => o.SingleLine = true)
                .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace), cancellationToken, page: Shout.Hosting.ProxyPage.Map);
        }
        catch (IOException e)
        {
            await Console.Error.WriteLineAsync($"shout proxy: --api {api}: {e.InnerException?.Message ?? e.Message}");
            return 1;
        }

        await using (server)
        {
            server.Proxies.DatagramIdle = udpIdle;
            server.Proxies.Tls = tls;
            try
            {
                if (listen is not null)
                {
                    var proxy = server.Proxies.Add(new ProxyInput(name, listen, upstream!, Enabled: true));
                    foreach (var toxic in toxics)
                    {
                        if (proxy.Refuses(toxic) is { } reason)
                        {
                            await Console.Error.WriteLineAsync($"shout proxy: --toxic {toxic.Type}: {reason}");
                            return 2;
                        }

                        if (!proxy.Toxics.TryAdd(toxic))
                        {
                            await Console.Error.WriteLineAsync($"shout proxy: --toxic: two toxics are named '{toxic.Name}'; give one name=…");
                            return 2;
                        }
                    }
                }

                server.Proxies.Populate(fromFile);
            }
            catch (ToxiproxyError e)
            {
                await Console.Error.WriteLineAsync($"shout proxy: {e.Message}");
                return 1;
            }

            foreach (var proxy in server.Proxies.All)
            {
                Console.Out.WriteLine($"shout proxy: {proxy.Name} listening on {proxy.Listen}, forwarding to {proxy.Upstream}"
                    + (proxy.Toxics.Current.Length > 0 ? $" through {string.Join(", ", proxy.Toxics.Current.Select(t => t.Name))}" : ""));
            }

            if (server.Proxies.All.Any(p => p.Listen.IsTls || p.Listen.Endpoint.Secure))
            {
                Console.Out.WriteLine($"shout proxy: TLS certificate {tls.Certificate.Subject}, SHA-256 fingerprint {Shout.Transports.Tls.ServerCertificates.Fingerprint(tls.Certificate)}");
            }

            Console.Out.WriteLine(server.Api is null ? "shout proxy: no API (--api none)" : $"shout proxy: API on {server.Api.Address} (its page: {server.Api.Address}/)");
            await Console.Out.FlushAsync(CancellationToken.None);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }

        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }

    private static ProxyAddress? Address(ArgumentResult result)
    {
        var text = CliValues.LastToken(result);
        if (ProxyAddress.TryParse(text, out var address, out var error))
        {
            return address;
        }

        result.AddError($"{CliValues.NameOf(result)}: {error}");
        return null;
    }

    private static ToxicSpec[] Toxics(ArgumentResult result)
    {
        var list = new List<ToxicSpec>();
        foreach (var token in result.Tokens)
        {
            if (!ToxicFlag.TryParse(token.Value, out var toxic, out var error))
            {
                result.AddError($"--toxic {error}");
                return [];
            }

            list.Add(toxic!);
        }

        return [.. list];
    }

    private static ApiListen ApiAddress(ArgumentResult result)
    {
        var text = CliValues.LastToken(result);
        if (text == "none")
        {
            return new ApiListen(null);
        }

        if (ShoutEndpoint.TryParse(text, out var endpoint, out var error) && endpoint!.Transport == ShoutTransport.Tcp)
        {
            if (IPAddress.TryParse(endpoint.Host, out var ip))
            {
                return new ApiListen(new IPEndPoint(ip, endpoint.Port));
            }

            if (endpoint.Host == "localhost")
            {
                return new ApiListen(new IPEndPoint(IPAddress.Loopback, endpoint.Port));
            }

            error = $"'{text}': the API listens on an IP address (e.g. 127.0.0.1:8474)";
        }

        result.AddError($"--api: {(error.Length > 0 ? error : $"'{text}' is not HOST:PORT")}");
        return new ApiListen(null);
    }

    /// <summary>Where the API listens; no end point for <c>--api none</c> (an option's value cannot be null).</summary>
    private sealed record ApiListen(IPEndPoint? EndPoint);
}
