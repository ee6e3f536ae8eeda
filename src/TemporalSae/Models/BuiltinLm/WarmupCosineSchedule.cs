// Learning rate: linear warm-up from 0, then cosine decay to a floor (nanoGPT's get_lr).
namespace TemporalSae.Models.BuiltinLm;

public sealed record WarmupCosineSchedule(double PeakLr, int WarmupSteps, int TotalSteps, double FloorFraction)
{
    /// <summary>The rate for 0-based <paramref name="step"/>.</summary>
    public double At(int step)
    {
        if (step < WarmupSteps) return PeakLr * (step + 1) / WarmupSteps;
        double floor = PeakLr * FloorFraction;
        int decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / decaySteps);
        return floor + 0.5 * (1 + Math.Cos(Math.PI * progress)) * (PeakLr - floor);
    }
}
