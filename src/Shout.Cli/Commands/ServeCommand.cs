using System.CommandLine;
using Microsoft.Extensions.Logging;
using Shout.Endpoints;
using Shout.Framing;
using Shout.Server;
using Shout.Web;

namespace Shout.Cli.Commands;

/// <summary><c>shout serve</c>: the server, on every endpoint given.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var listen = new Option<ShoutEndpoint[]>("--listen", "-l")
        {
            Description = "Endpoint to serve, repeatable: tcp://HOST:PORT, udp://HOST:PORT, tls://HOST:PORT, unix:///PATH "
                + $"([::] listens on IPv6 and IPv4). Default {ShoutServerOptions.DefaultListen}.",
            AllowMultipleArgumentsPerToken = false,
            CustomParser = result => [.. result.Tokens.Select(t => ShoutEndpoint.TryParse(t.Value, out var e, out var error) ? e! : Fail(result, error))],
        };
        var mode = new Option<ShoutMode>("--mode")
        {
            Description = "stream: answer every byte as it arrives (the tutorial's behaviour); line: answer whole lines, 'quit' closes.",
            DefaultValueFactory = _ => ShoutMode.Stream,
        };
        var maxLine = new Option<int>("--max-line")
        {
            Description = $"Line mode: most bytes in one line, not counting its newline. Default {LineFramer.DefaultMaxLineLength}.",
            DefaultValueFactory = _ => LineFramer.DefaultMaxLineLength,
        };
        maxLine.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1)
            {
                r.AddError("--max-line must be at least 1");
            }
        });
        var shutdownTimeout = new Option<TimeSpan>("--shutdown-timeout")
        {
            Description = "On Ctrl+C or SIGTERM, how long to let connections finish their replies before aborting them. Default 5s.",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(5),
            CustomParser = CommonOptions.ParseDuration,
        };
        var web = new Option<string>("--web")
        {
            Description = "The browser page, WebSocket (/ws), live view, /healthz and /metrics: http://HOST:PORT, or none.",
            DefaultValueFactory = _ => ShoutWebOptions.DefaultAddress,
        };
        web.Validators.Add(r =>
        {
            try
            {
                ShoutWebOptions.ParseAddress(r.GetValueOrDefault<string>() ?? "");
            }
            catch (FormatException e)
            {
                r.AddError(e.Message);
            }
        });
        var inline = new Option<bool>("--inline-scheduling")
        {
            Description = "Answer on the socket's I/O thread instead of hopping to the thread pool (fastest; the handler never blocks). Default true.",
            DefaultValueFactory = _ => true,
        };
        var ioQueues = new Option<int?>("--io-queues")
        {
            Description = "Kestrel I/O queues (default: one per core); 0 schedules to the thread pool.",
        };
        var blockSize = new Option<int?>("--block-size")
        {
            Description = "Transport buffer block in bytes, the most one read takes (0: Kestrel's 4 KiB pool).",
        };
        var waitForData = new Option<bool>("--wait-for-data")
        {
            Description = "Give a connection a receive buffer only once data arrives (default true: idle connections hold none; "
                + "false saves a system call per message at one buffer block per idle connection).",
            DefaultValueFactory = _ => true,
        };
        var transport = new ServeTransportOptions();
        var verbose = new Option<bool>("--verbose", "-v")
        {
            Description = "Log each connection's life: accepted, peer closed its side, who closed and why, bytes each way, duration.",
        };

        var command = new Command("serve", "Run the server (the tutorial's 2.1/2.3 concurrent server).")
        {
            listen, mode, maxLine, shutdownTimeout, web, inline, ioQueues, blockSize, waitForData, verbose,
        };
        var limits = new LimitOptions();
        foreach (var option in limits.All)
        {
            command.Options.Add(option);
        }

        transport.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new ShoutServerOptions
            {
                Mode = parse.GetValue(mode),
                MaxLineLength = parse.GetValue(maxLine),
                ShutdownTimeout = parse.GetValue(shutdownTimeout),
            };
            options.Web.Address = ShoutWebOptions.ParseAddress(parse.GetValue(web) ?? ShoutWebOptions.DefaultAddress);
            options.Sockets.InlineScheduling = parse.GetValue(inline);
            options.Sockets.IOQueueCount = parse.GetValue(ioQueues);
            options.Sockets.BlockSize = parse.GetValue(blockSize) ?? options.Sockets.BlockSize;
            options.Sockets.WaitForDataBeforeAllocatingBuffer = parse.GetValue(waitForData);

            // Before the first socket of the process exists, or it has no effect.
            options.Sockets.ApplyToProcess();
            foreach (var endpoint in parse.GetValue(listen) ?? [])
            {
                options.Listen.Add(endpoint);
            }

            try
            {
                limits.Apply(parse, options);
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"shout: {e.Message}");
                return 1;
            }

            transport.Apply(parse, options);
            return await RunAsync(options, parse.GetValue(verbose));
        });
        return command;
    }

    private static ShoutEndpoint Fail(System.CommandLine.Parsing.ArgumentResult result, string error)
    {
        result.AddError(error);
        return null!;
    }

    private static async Task<int> RunAsync(ShoutServerOptions options, bool verbose)
    {
        ShoutServer server;
        try
        {
            server = CreateServer(options, verbose);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException)
        {
            await Console.Error.WriteLineAsync($"shout: {e.Message}");
            return 1;
        }

        await using (server)
        {
            try
            {
                await server.StartAsync();
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync($"shout: cannot listen: {e.Message}");
                return 1;
            }

            // The host drains on the first Ctrl+C/SIGTERM; a second one means "now".
            using var impatience = SecondSignal.ExitAtOnce();
            await server.WaitForShutdownAsync();
            return 0;
        }
    }

    private static ShoutServer CreateServer(ShoutServerOptions options, bool verbose) =>
        ShoutServer.Create(options, logging =>
        {
            logging.AddSimpleConsole(c =>
            {
                c.SingleLine = true;
                c.TimestampFormat = "HH:mm:ss.fff ";
            });
            logging.SetMinimumLevel(LogLevel.Information);
            logging.AddFilter("Microsoft", LogLevel.Warning);
            logging.AddFilter("Shout", verbose ? LogLevel.Debug : LogLevel.Information);
        });
}
