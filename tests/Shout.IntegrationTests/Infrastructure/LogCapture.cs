using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>Keeps every log entry of an in-process server, so a test can check what was logged at which level.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Category, string Message)> _entries = new();

    public IReadOnlyCollection<(LogLevel Level, string Category, string Message)> Entries => _entries;

    /// <summary>Entries at <paramref name="level"/> or above, as lines for an assertion message.</summary>
    public string[] AtLeast(LogLevel level) => [.. _entries.Where(e => e.Level >= level).Select(e => $"{e.Level} {e.Category}: {e.Message}")];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._entries.Enqueue((logLevel, category, formatter(state, exception)));
    }
}
