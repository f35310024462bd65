namespace WorkbenchAdmin.Core.Configuration;

/// <summary>
/// A password or key read from configuration. It never renders as text (ToString, formatting and
/// serialisation all show a mask); code that needs it calls <see cref="Reveal"/> on purpose.
/// </summary>
public sealed class SecretValue
{
    public const string Mask = "********";
    private readonly string _value;

    public SecretValue(string value) => _value = value;

    public string Reveal() => _value;
    public int Length => _value.Length;
    public override string ToString() => Mask;
}
