namespace WorkbenchAdmin.Core.Tests.Support;

/// <summary>A clock that moves only when the test says, wall time and timestamps alike.</summary>
public sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);
    private long _ticks = 1_000_000_000;

    public override DateTimeOffset GetUtcNow() => _now;
    public override long GetTimestamp() => _ticks;
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by)
    {
        _now += by;
        _ticks += by.Ticks;
    }
}
