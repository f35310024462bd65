namespace WorkbenchAdmin.Core.Simulation;

/// <summary>
/// Linux's load average (kernel/sched/loadavg.c) without its fixed point: every <see cref="SampleSeconds"/> seconds,
/// load = load·e^(−5/window) + n·(1 − e^(−5/window)), n being the runnable work at that instant. The kernel keeps
/// the factor as EXP_5 = 2014 over FIXED_1 = 2048 (11 bits) for the 5-minute average; here it is exact.
/// </summary>
public static class LoadAverage
{
    public const int SampleSeconds = 5;
    /// <summary>The kernel's fixed-point constants (include/linux/sched/loadavg.h).</summary>
    public const int FShift = 11, Fixed1 = 1 << FShift, Exp1 = 1884, Exp5 = 2014, Exp15 = 2037;

    /// <summary>e^(−5/300): the 5-minute average's decay per sample.</summary>
    public static readonly double Decay5 = DecayFor(300);

    public static double DecayFor(double windowSeconds) => Math.Exp(-SampleSeconds / windowSeconds);

    /// <summary>One sample: the new average from the previous one and the runnable work now.</summary>
    public static double Next(double load, double runnable, double decay) => load * decay + runnable * (1 - decay);
}
