using System.Globalization;
using WorkbenchAdmin.Core.Configuration;

namespace WorkbenchAdmin.Core.Balancing;

/// <summary>
/// One setting a policy takes, declared in the policy's own file: its cmdlet parameter, its key in the
/// <c>[balancer]</c> section of workbenchadmin.conf (null when the balancer program never runs the policy), its
/// default, and what a valid value is. Cmdlets, the settings file, the program and the simulator all reach it
/// through <see cref="BalancingPolicies"/>, so adding one is the policy's file, one cmdlet parameter and its help.
/// </summary>
public abstract class PolicyOption(string parameter, string? key, string errorId, string rule)
{
    /// <summary>The cmdlet parameter (without the dash); also the property Get-WbBalancerPolicy shows it under.</summary>
    public string Parameter { get; } = parameter;
    /// <summary>The key in workbenchadmin.conf's [balancer] section; null when only the cmdlets take it.</summary>
    public string? Key { get; } = key;
    public string ErrorId { get; } = errorId;
    /// <summary>What a valid value is, as an error says it ("must be ...").</summary>
    public string Rule { get; } = rule;

    /// <summary>The value of settings-file text, or null when it is not a valid value.</summary>
    public abstract object? Parse(string text);
    /// <summary>A cmdlet's value, validated: an invalid one is an error naming the parameter and the value.</summary>
    public abstract object Validate(object value);
    /// <summary>The value as the settings file holds it (invariant culture, round-trip).</summary>
    public abstract string Format(object value);

    /// <summary>The text of the settings-file line, validated: an invalid one names the file and line.</summary>
    internal object Read(ConfigDocument doc, ConfigLine line) =>
        Parse(line.Value ?? "") ?? throw ConfigFormatException.AtValue(doc.FilePath, line, Rule);
}

/// <summary>A <see cref="PolicyOption"/> whose values are <typeparamref name="T"/>.</summary>
public sealed class PolicyOption<T>(string parameter, string? key, string errorId, string rule, T @default,
                                    PolicyOption<T>.TryParse parse, Func<T, bool> isValid) : PolicyOption(parameter, key, errorId, rule)
    where T : notnull
{
    public delegate bool TryParse(string text, out T value);

    public T Default { get; } = @default;

    public bool IsValid(T value) => isValid(value);

    public override object? Parse(string text) => parse(text.Trim(), out var v) && isValid(v) ? v : null;

    public override object Validate(object value) => value is T v && isValid(v) ? v
        : throw new WbException(ErrorId, WbErrorCategory.InvalidArgument, $"-{Parameter} {SafeText.Quote(Format(value))} {Rule}.", value);

    public override string Format(object value) =>
        value is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : value.ToString() ?? "";
}

/// <summary>Ready-made kinds of <see cref="PolicyOption{T}"/>.</summary>
public static class PolicyOptionKinds
{
    public static PolicyOption<double> Number(string parameter, string? key, string errorId, string rule, double @default, Func<double, bool> isValid) =>
        new(parameter, key, errorId, rule, @default,
            (string text, out double v) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out v),
            v => double.IsFinite(v) && isValid(v));

    public static PolicyOption<string> Text(string parameter, string? key, string errorId, string rule, string @default, Func<string, bool> isValid) =>
        new(parameter, key, errorId, rule, @default, (string text, out string v) => { v = text; return true; }, isValid);
}

/// <summary>
/// The options a policy is built with: valid values by <see cref="PolicyOption.Parameter"/>; a policy reads its own
/// with <see cref="Get{T}"/> (its default when not given). Values are checked as they are added.
/// </summary>
public sealed class PolicyOptions
{
    public static readonly PolicyOptions Default = new(new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase));
    private readonly Dictionary<string, object> _values;

    private PolicyOptions(Dictionary<string, object> values) => _values = values;

    /// <summary>
    /// Options as cmdlet parameters give them (name to value; null values are not given). Every option given is
    /// validated, whichever policy runs, as Set-WbBalancerPolicy and the settings file do.
    /// </summary>
    public static PolicyOptions From(IReadOnlyDictionary<string, object?>? given)
    {
        var options = Default;
        foreach (var (name, value) in given ?? new Dictionary<string, object?>())
            if (value is not null) options = options.With(BalancingPolicies.Option(name), value);
        return options;
    }

    /// <summary>These options and <paramref name="option"/> set to <paramref name="value"/> (validated).</summary>
    public PolicyOptions With(PolicyOption option, object value) =>
        new(new Dictionary<string, object>(_values, StringComparer.OrdinalIgnoreCase) { [option.Parameter] = option.Validate(value) });

    /// <summary>These options, with <paramref name="value"/> for <paramref name="option"/> when it is not given.</summary>
    public PolicyOptions WithDefault(PolicyOption option, object? value) =>
        value is null || _values.ContainsKey(option.Parameter) ? this : With(option, value);

    public T Get<T>(PolicyOption<T> option) where T : notnull =>
        _values.TryGetValue(option.Parameter, out var v) ? (T)v : option.Default;

    public bool IsGiven(PolicyOption option) => _values.ContainsKey(option.Parameter);

    /// <summary>The given values by parameter name.</summary>
    public IReadOnlyDictionary<string, object> Given => _values;
}
