namespace WorkbenchAdmin.Core.Tests.Support;

/// <summary>This machine's clock set ahead (or behind) by an offset: a node whose clock drifted.</summary>
public sealed class OffsetClock(TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
}
