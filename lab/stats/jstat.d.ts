// jstat ships no types; this declares the one function the lab uses.
declare module 'jstat' {
  const jstat: { jStat: { studentt: { inv(probability: number, degreesOfFreedom: number): number } } };
  export default jstat;
}
