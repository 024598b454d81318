using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shout.Cli.Parsing;
using Shout.Configuration;
using Shout.Hosting;
using Shout.Sessions;

namespace Shout.Cli.Commands;

/// <summary>
/// <c>shout serve</c>: the server, on every endpoint given. Each setting comes from its flag, its
/// <c>SHOUT_</c> environment variable or the <c>Shout</c> section of a JSON configuration file
/// (<c>--config</c>, or <c>appsettings.json</c> in the current directory), in that order; see <see cref="ServeSettings"/>.
/// </summary>
internal static class ServeCommand
{
    public const string DefaultConfigFile = "appsettings.json";

    // True while the host starts: its "Hosting failed to start" error is then ours to report.
    private static bool _starting;

    /// <summary>A secret stays out of flags and files: the TLS key or PKCS#12 password comes only from here.</summary>
    public const string TlsPasswordVariable = "SHOUT_TLS_PASSWORD";

    /// <summary>The bus password (with --bus-user) and token: from the environment only, so they never show in a process list.</summary>
    public const string BusPasswordVariable = "SHOUT_BUS_PASSWORD";

    public const string BusTokenVariable = "SHOUT_BUS_TOKEN";

    public static Command Create()
    {
        var config = new Option<FileInfo>("--config")
        {
            HelpName = "file",
            Description = $"JSON file whose \"Shout\" section holds settings (keys as in [config …] below). Default ./{DefaultConfigFile} when it exists.",
        };
        var command = new Command("serve", "Run the server (the tutorial's 2.1/2.3 concurrent server).") { config };
        foreach (var setting in ServeSettings.All)
        {
            command.Options.Add(setting.Option);
        }

        CliHelp.Group("Limits and timeouts", ServeSettings.All.Where(s => ServeSettings.LimitKeys.Contains(s.Key)).Select(s => s.Option));
        CliHelp.Group("Tuning (docs/benchmarks.md)", ServeSettings.All.Where(s => ServeSettings.TuningKeys.Contains(s.Key)).Select(s => s.Option));
        command.SetAction(async (parse, cancellationToken) =>
        {
            // Before anything slow: SIGHUP's default action would end the process during start-up.
            using var reloads = new ReloadSignal();
            var run = new ServeRun();
            var configFile = parse.GetValue(config);
            var errors = Resolve(parse, configFile, run);
            if (errors.Count > 0)
            {
                foreach (var error in errors)
                {
                    await Console.Error.WriteLineAsync($"shout: {error}");
                }

                return CliRunner.UsageError;
            }

            var problems = ListenCheck.Problems(run.Options);
            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                {
                    await Console.Error.WriteLineAsync($"shout: {problem}");
                }

                return 1;
            }

            var toxicErrors = new List<string>();
            await using var toxics = ServeToxics.Plan(run, toxicErrors);
            if (toxicErrors is [var toxicError, ..])
            {
                await Console.Error.WriteLineAsync($"shout: {toxicError}");
                return CliRunner.UsageError;
            }

            // Before the first socket of the process exists, or it has no effect.
            run.Options.Sockets.ApplyToProcess();
            return await RunAsync(run.Options, reloads, () => Reread(parse, configFile, toxics), run.LogFormat, toxics);
        });
        return command;
    }

    /// <summary>Fills <paramref name="run"/> from flags, environment and file; returns the errors found.</summary>
    internal static List<string> Resolve(ParseResult parse, FileInfo? configFile, ServeRun run)
    {
        var errors = new List<string>();
        var path = configFile?.FullName ?? Path.GetFullPath(DefaultConfigFile);
        IConfiguration file;
        try
        {
            // Through OptionFile: --config /dev/zero or a FIFO must not hang the start or a reload.
            var json = configFile is not null || File.Exists(path)
                ? OptionFile.ReadAllBytes("--config", path, SizeLimits.TextFile)
                : null;
            var builder = new ConfigurationBuilder();
            if (json is not null)
            {
                builder.AddJsonStream(new MemoryStream(json));
            }

            file = builder.Build().GetSection("Shout");
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or System.Text.Json.JsonException)
        {
            errors.Add(ConfigJsonError.Describe(path, e));
            return errors;
        }
        catch (IOException e)
        {
            errors.Add(e.Message);
            return errors;
        }

        var known = ServeSettings.All.Select(s => s.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var unknown in file.GetChildren().Where(c => !known.Contains(c.Key)))
        {
            errors.Add($"{path}: unknown setting Shout:{unknown.Key} (known: {string.Join(", ", known)})");
        }

        var environment = new ConfigurationBuilder().AddEnvironmentVariables("SHOUT_").Build();
        foreach (var setting in ServeSettings.All)
        {
            setting.Apply(parse, environment, file, run, errors);
        }

        try
        {
            var access = AccessList.Create(run.Allow, run.Deny);
            run.Options.Access = run.AccessFile is null ? access : access.Load(run.AccessFile);
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            errors.Add(e.Message);
        }

        ReloadTokenSource.Apply(run, errors);
        run.Options.LogLevel = run.Verbose ? LogLevel.Debug : LogLevel.Information;
        run.Options.Systemd = true;
        var tls = run.Options.Tls;
        tls.Password = Environment.GetEnvironmentVariable(TlsPasswordVariable) is { Length: > 0 } password ? password : null;
        var bus = run.Options.Rooms.Bus;
        bus.Password = Environment.GetEnvironmentVariable(BusPasswordVariable) is { Length: > 0 } busPassword ? busPassword : null;
        bus.Token = Environment.GetEnvironmentVariable(BusTokenVariable) is { Length: > 0 } busToken ? busToken : null;
        errors.AddRange(bus.Problems());
        if (bus.Address is not null && run.Options.Mode != ShoutMode.Room)
        {
            // Only room mode has a bus: accepting it elsewhere would let an operator think instances are linked.
            errors.Add("--bus needs --mode room (only rooms are linked across instances)");
        }

        if (tls.KeyPath is not null && tls.CertificatePath is null)
        {
            errors.Add("--tls-key needs --tls-cert");
        }

        return errors;
    }

    /// <summary>The settings as the sources say now, for a reload; a wrong one is a one-line <see cref="FormatException"/>.</summary>
    private static ShoutServerOptions Reread(ParseResult parse, FileInfo? configFile, ServeToxics? toxics)
    {
        var run = new ServeRun();
        var errors = Resolve(parse, configFile, run);
        if (errors.Count > 0)
        {
            throw new FormatException(string.Join("; ", errors));
        }

        // The listeners the running server has are the internal ones behind the toxics (which a reload keeps).
        toxics?.Rewrite(run.Options);
        return run.Options;
    }

    private static async Task<int> RunAsync(ShoutServerOptions options, ReloadSignal reloads, Func<ShoutServerOptions> reread,
        ServeLogFormat format, ServeToxics? toxics)
    {
        ShoutServer server;
        try
        {
            server = CreateServer(options, format);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"shout: {e.Message.Split(" (Parameter", 2)[0]}");
            return 1;
        }
        catch (OptionFileException e)
        {
            // A certificate or key named wrong (a device, a FIFO, too large) is a bad value, as at parse time.
            await Console.Error.WriteLineAsync($"shout: {e.Message}");
            return CliRunner.UsageError;
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
                Volatile.Write(ref _starting, true);
                await server.StartAsync();
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
            {
                await Console.Error.WriteLineAsync($"shout: {ListenCheck.DescribeBindFailure(e, options)}");
                return 1;
            }
            finally
            {
                Volatile.Write(ref _starting, false);
            }

            try
            {
                if (toxics is not null)
                {
                    try
                    {
                        foreach (var line in await toxics.StartAsync(server, options.UnixSocketMode, CancellationToken.None))
                        {
                            Console.Out.WriteLine(line);
                        }

                        await Console.Out.FlushAsync(CancellationToken.None);
                    }
                    catch (IOException e)
                    {
                        await Console.Error.WriteLineAsync($"shout: {e.Message}");
                        return 1;
                    }
                }

                server.ReloadSource = reread;
                reloads.Attach(server);

                // The host drains on the first Ctrl+C/SIGTERM; a second one means "now".
                using var impatience = SecondSignal.ExitAtOnce();
                await server.WaitForShutdownAsync();
            }
            finally
            {
                // The toxics' proxies forward the drain's last replies and FIN (as long again as the drain
                // may take), then stop before the server's log is gone.
                if (toxics is not null)
                {
                    await toxics.StopAsync(options.ShutdownTimeout);
                }
            }
        }

        return 0;
    }

    private static ShoutServer CreateServer(ShoutServerOptions options, ServeLogFormat format)
    {
        ShoutServer? server = null;
        server = ShoutServer.Create(options, logging =>
        {
            if (format == ServeLogFormat.Json)
            {
                logging.AddJsonConsole(c =>
                {
                    c.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffzzz";
                    c.UseUtcTimestamp = false;
                    c.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
                });
            }
            else if (Environment.GetEnvironmentVariable("JOURNAL_STREAM") is { Length: > 0 })
            {
                // journald stamps every line itself and reads the <N> priority prefix this formatter writes.
                logging.AddSystemdConsole();
            }
            else
            {
                logging.AddConsole(c => c.FormatterName = ServeLogFormatter.Name);
                logging.AddConsoleFormatter<ServeLogFormatter, Microsoft.Extensions.Logging.Console.ConsoleFormatterOptions>();
            }

            logging.SetMinimumLevel(LogLevel.Information);
            logging.AddFilter("Microsoft", LogLevel.Warning);

            // None of these formatters prints scopes; capturing them kept Kestrel's connection scope
            // (scope, execution context, async-local map: ~150 bytes) alive in every idle connection.
            logging.Services.Configure<LoggerFilterOptions>(o => o.CaptureScopes = false);

            // A failed start is told in one line by RunAsync; the host's own report of it is a stack trace.
            logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", level => level >= LogLevel.Warning
                && !(level == LogLevel.Error && Volatile.Read(ref _starting)));

            // Read per message, so a reload that turns --verbose on or off applies at once.
            logging.AddFilter("Shout", level => level >= (server?.LogLevel ?? options.LogLevel));
        });
        return server;
    }
}
