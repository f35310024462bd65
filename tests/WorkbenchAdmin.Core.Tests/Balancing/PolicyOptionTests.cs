using System.Reflection;
using System.Reflection.Emit;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Balancing.Custom;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Balancing;

/// <summary>Each policy's options: read from cmdlet values and the settings file, validated where they are given, explained.</summary>
public sealed class PolicyOptionTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("BalanceFactor", 1.0, "InvalidBalanceFactor", "-BalanceFactor 1 must be a number above 1 and at most 100")]
    [InlineData("BalanceFactor", double.NaN, "InvalidBalanceFactor", "-BalanceFactor NaN")]
    [InlineData("TimeoutSec", 0.0, "InvalidTimeout", "-TimeoutSec 0 must be more than 0 and at most 3600")]
    public void ABadCmdletValueNamesTheParameterAndTheValue(string parameter, double value, string id, string text)
    {
        var e = Assert.Throws<WbException>(() => PolicyOptions.From(new Dictionary<string, object?> { [parameter] = value }));
        Assert.Equal((id, WbErrorCategory.InvalidArgument), (e.ErrorId, e.Category));
        Assert.StartsWith(text, e.Message);
    }

    [Fact]
    public void EveryOptionGivenIsCheckedWhicheverPolicyRuns()
    {
        // As Set-WbBalancerPolicy and the settings file do: a bad value is never silently ignored.
        Assert.Throws<WbException>(() => BalancingPolicies.Create("sessions", PolicyOptions.From(new Dictionary<string, object?> { ["BalanceFactor"] = 0.5 })));
    }

    [Fact]
    public void APolicyReadsItsOwnOptionAndExplainsWithIt()
    {
        var nodes = new CandidateSet(Enumerable.Range(1, 3).Select(i => PolicyTests.Node($"node{i}")));
        var policy = BalancingPolicies.Create("bounded-hash", PolicyOptions.From(new Dictionary<string, object?> { ["balancefactor"] = 2.5 }));
        var decision = new BalanceEngine().Decide(policy, "alice", nodes);
        Assert.Contains("2.5 × the average", decision.Reason);
        Assert.Equal(1.25, BoundedHashPolicy.BalanceFactorOption.Default);
        Assert.Contains("1.25 × the average", new BalanceEngine().Decide(BalancingPolicies.Create("bounded-hash"), "alice", nodes).Reason);
    }

    [Fact]
    public void TheSettingsFileHoldsTheProgramsOptionsUnderTheirKeysAndAnUnknownParameterIsAProgrammingError()
    {
        Assert.Equal(["balance-factor"], BalancingPolicies.ProgramOptions.Select(o => o.Key));
        Assert.All(CustomScriptPolicy.Options, o => Assert.Null(o.Key)); // the program is custom: it never runs it
        Assert.Throws<ArgumentException>(() => BalancingPolicies.Option("NoSuchOption"));
    }

    [Fact]
    public void SettingsFileValuesAreReadRawAndCheckedByThePolicies()
    {
        File.WriteAllText(Path.Combine(_dir.Path, ModuleSettings.FileName), "[balancer]\nmethod=Bounded-Hash\nbalance-factor=1,5\n");
        var root = new ConfigRoot(_dir.Path);
        Assert.Equal("bounded-hash", ModuleSettings.Load(root).Balancer.Method); // raw, unchecked below Balancing
        var e = Assert.Throws<ConfigFormatException>(() => BalancingPolicies.LoadSettings(root));
        Assert.Equal(3, e.LineNumber);
        Assert.Contains("above 1 and at most 100", e.Message);

        var errors = new Dictionary<string, ConfigFormatException>();
        var policy = BalancingPolicies.Checked(ModuleSettings.Load(root), errors).Balancer;
        Assert.Equal(["balance-factor"], errors.Keys);
        Assert.Null(policy.Options["BalanceFactor"]);
    }

    [Fact]
    public void AnOptionRoundTripsThroughTheSettingsFileAsInvariantText()
    {
        var option = BoundedHashPolicy.BalanceFactorOption;
        Assert.Equal("1.3333333333333333", option.Format(4.0 / 3));
        Assert.Equal(4.0 / 3, option.Parse(option.Format(4.0 / 3)));
        Assert.Null(option.Parse("abc"));
    }

    [Fact]
    public void StickinessIsAskedOfTheRegistryAndKeepsWhatTheWrappedPolicyNeeds()
    {
        var custom = BalancingPolicies.Create("custom");
        var sticky = BalancingPolicies.Create("custom", stickyTo: UserSessions.None);
        Assert.True(custom.RunsOutsideTransaction);
        Assert.True(sticky.RunsOutsideTransaction);
        Assert.Equal("custom", sticky.Name);
        Assert.False(BalancingPolicies.Create("sessions", stickyTo: UserSessions.None).RunsOutsideTransaction);
    }

    /// <summary>
    /// Outside Balancing nothing tests for, casts to or constructs a concrete policy: what callers need to know is on
    /// IBalancingPolicy, and policies come from BalancingPolicies. Read from the compiled engine's method bodies.
    /// </summary>
    [Fact]
    public void NoConcretePolicyTypeCheckOrConstructionOutsideBalancing()
    {
        var core = typeof(IBalancingPolicy).Assembly;
        var policies = core.GetTypes().Where(t => t.IsClass && typeof(IBalancingPolicy).IsAssignableFrom(t)).ToHashSet();
        var found = new List<string>();
        foreach (var type in core.GetTypes().Where(t => !(t.Namespace ?? "").StartsWith("WorkbenchAdmin.Core.Balancing", StringComparison.Ordinal)))
            foreach (var method in type.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                                       .Cast<MethodBase>().Concat(type.GetConstructors(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)))
                foreach (var (op, target) in TypeOperands(method))
                    if (policies.Contains(target)) found.Add($"{type.FullName}.{method.Name}: {op} {target.Name}");
        Assert.Empty(found);
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The isinst, castclass, unbox.any and newobj instructions of a method body, with the type each names.</summary>
    private static IEnumerable<(string Op, Type Type)> TypeOperands(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        for (var i = 0; i < il.Length;)
        {
            var code = il[i] == 0xFE ? OpCodesByValue[(short)(0xFE00 | il[i + 1])] : OpCodesByValue[il[i]];
            i += code.Size;
            var operandAt = i;
            i += code.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, operandAt),
                _ => 4,
            };
            if (code != OpCodes.Isinst && code != OpCodes.Castclass && code != OpCodes.Unbox_Any && code != OpCodes.Newobj) continue;
            var token = BitConverter.ToInt32(il, operandAt);
            Type? target;
            try
            {
                target = code == OpCodes.Newobj
                    ? method.Module.ResolveMethod(token, method.DeclaringType?.GetGenericArguments(), null)?.DeclaringType
                    : method.Module.ResolveType(token, method.DeclaringType?.GetGenericArguments(), null);
            }
            catch (ArgumentException) { continue; } // a generic method's own type parameters: never a policy
            if (target is not null) yield return (code.Name!, target);
        }
    }
}
