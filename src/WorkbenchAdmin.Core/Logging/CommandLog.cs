using Microsoft.Extensions.Logging;
namespace WorkbenchAdmin.Core.Logging;

/// <summary>
/// The core (and Npgsql) log through Microsoft.Extensions.Logging's abstractions; this only routes every log line to the sink
/// (the command) attached on the current thread: Trace and Debug to its debug stream, Information to verbose, Warning and above to
/// warnings. Nothing is attached outside a command, and lines from other threads are dropped (PowerShell
/// accepts stream writes only from the pipeline thread), so nothing prints unless asked for.
/// </summary>
public static class CommandLog
{
    private static readonly AsyncLocal<(ILogSink Sink, int Thread)?> Current = new();

    /// <remarks>
    /// A factory of our own rather than LoggerFactory.Create: that one builds a dependency-injection container
    /// (Microsoft.Extensions.Logging, DependencyInjection, Options), which cost 31 ms of every first command.
    /// </remarks>
    public static ILoggerFactory Factory { get; } = new HostLoggerFactory();

    public static ILogger For<T>() => Factory.CreateLogger<T>();

    /// <summary>Sends the core's log lines written on this thread to <paramref name="sink"/> until disposed.</summary>
    public static IDisposable Attach(ILogSink sink)
    {
        var previous = Current.Value;
        Current.Value = (sink, Environment.CurrentManagedThreadId);
        return new Detacher(previous);
    }

    private static ILogSink? Sink =>
        Current.Value is { } c && c.Thread == Environment.CurrentManagedThreadId ? c.Sink : null;

    private sealed class Detacher((ILogSink Sink, int Thread)? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }

    private sealed class HostLoggerFactory : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new HostLogger(ShortName(categoryName));
        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("Log lines go to the running command only.");
        public void Dispose() { }

        private static string ShortName(string category)
        {
            var dot = category.LastIndexOf('.');
            return dot < 0 ? category : category[(dot + 1)..];
        }
    }

    private sealed class HostLogger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && Sink is not null;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.None || Sink is not { } sink) return;
            var text = $"{category}: {formatter(state, exception)}";
            switch (logLevel)
            {
                case LogLevel.Trace or LogLevel.Debug: sink.WriteDebug(text); break;
                case LogLevel.Information: sink.WriteVerbose(text); break;
                default: sink.WriteWarning(text); break;
            }
        }
    }
}
